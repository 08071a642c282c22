import Foundation
import SentryConnectors
import SentryCore
import SentryTestSupport
import Testing

@Suite struct SlackAdminModelTests {
    @Test(arguments: [
        ("https://api.slack.com/scim/v2", SCIMVersion.v2),
        ("https://api.slack.com/scim/v2/", .v2),
        ("https://api.slack.com/scim/v1", .v1),
        ("https://api.slack.com/scim/V1/", .v1),
        ("http://127.0.0.1:8080/scim/v1", .v1),
        ("http://127.0.0.1:8080/scim", .v2),
    ])
    func versionIsReadFromTheBaseURL(url: String, version: SCIMVersion) {
        #expect(SCIMVersion(baseURL: url) == version)
    }

    @Test func theV1SearchFixturesUserIsABot() throws {
        let json = try #require(
            JSONValue.parse(
                try CoreFixtures.sharedBytes(
                    "specs/slack/samples/scim/v1_search_users_response.python_sdk_fixture.json")))
        let resource = try #require(json["Resources"]?.arrayValue?.first)
        let user = try #require(SCIMUser(json: resource))
        #expect(
            user
                == SCIMUser(
                    id: "W111", userName: "test-app", active: true, email: "botuser@slack-bots.com", isBot: true))
        #expect(!user.isPrimaryOwner)
    }

    @Test(arguments: [
        "specs/slack/samples/scim/v1_user.all_fields.shape.json",
        "specs/slack/samples/scim/v2_user.all_fields.shape.json",
    ])
    func theShapesParse(path: String) throws {
        let json = try #require(JSONValue.parse(try CoreFixtures.sharedBytes(path)))
        let user = try #require(SCIMUser(json: json))
        #expect(user.id == "W00000000")
        #expect(user.active == false)
        // Placeholder values ("") are not a guest type, a role or a name.
        #expect(user.guestType == nil)
        #expect(user.roles.isEmpty)
        #expect(user.displayName == nil)
    }

    @Test func guestsAndRolesAreRead() {
        let json: JSONValue = [
            "id": "W1", "userName": "guest", "active": true,
            "emails": [["value": "other@example.com"], ["value": "guest@example.com", "primary": true]],
            "roles": [["value": "primary_owner"]],
            "urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User": ["type": "multi", "expiration": ""],
        ]
        let user = SCIMUser(json: json)
        #expect(user?.guestType == "multi")
        #expect(user?.isPrimaryOwner == true)
        #expect(user?.email == "guest@example.com")
    }

    @Test func aUserWithoutActiveIsNotAUser() {
        #expect(SCIMUser(json: ["id": "W1", "userName": "x"]) == nil)
        #expect(SCIMUser(json: ["Errors": ["description": "user_not_found", "code": 404]]) == nil)
    }

    @Test(arguments: [
        (SlackAdminError.scim(status: 503, detail: "HTTP 503"), true),
        (.scim(status: 400, detail: "invalid_patch_body"), false),
        (.scim(status: 401, detail: "invalid_authentication"), false),
        (.api(method: "m", code: "invalid_auth"), false),
        (.api(method: "m", code: "internal_error"), true),
        (.api(method: "m", code: "http_502"), true),
        (.rateLimited(retryAfter: .seconds(3)), true),
        (.transport(.timedOut), true),
        (.transport(.invalidURL("bad")), false),
        (.malformedResponse("SCIM GET /Users"), true),
    ])
    func retryableOrNot(error: SlackAdminError, retryable: Bool) {
        #expect(error.isRetryable == retryable)
    }
}
