import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

@Suite struct SlackAdminClientTests {
    typealias Simulator = SlackAdminSimulator

    // MARK: deactivate

    @Test func deactivatingAnActiveUserSendsDeleteAndLeavesThemInactive() async throws {
        try await withSlackAdmin { world in
            let sleep = RecordingSleep()
            let outcome = try await world.client(sleep: sleep).deactivate(userID: Simulator.activeUserID)
            #expect(outcome == .deactivated)
            #expect(world.simulator.isActive(Simulator.activeUserID) == false)
            let path = SlackAdminHarness.path(Simulator.activeUserID)
            #expect(world.simulator.requests.map(\.httpMethod) == ["GET", "DELETE"])
            let delete = try #require(world.simulator.requests(method: "DELETE").first)
            #expect(delete.path == path)
            #expect(delete.authorization == "Bearer \(SlackAdminHarness.token)")
            #expect(delete.body.isEmpty)
            #expect(sleep.durations.isEmpty)
        }
    }

    @Test func anInactiveUserIsNotWrittenTo() async throws {
        try await withSlackAdmin { world in
            let outcome = try await world.client().deactivate(userID: Simulator.inactiveUserID)
            #expect(outcome == .alreadyInactive)
            #expect(world.simulator.requests.map(\.httpMethod) == ["GET"])
            #expect(world.simulator.isActive(Simulator.inactiveUserID) == false)
        }
    }

    @Test func anUnknownUserIsNotFound() async throws {
        try await withSlackAdmin { world in
            let client = world.client()
            let deactivation = try await client.deactivate(userID: "W0NOBODY01")
            let reactivation = try await client.reactivate(userID: "W0NOBODY01")
            let user = try await client.user(id: "W0NOBODY01")
            #expect(deactivation == .notFound)
            #expect(reactivation == .notFound)
            #expect(user == nil)
            #expect(world.simulator.requests.allSatisfy { $0.httpMethod == "GET" })
        }
    }

    @Test(arguments: [
        (Simulator.primaryOwnerID, "primary owner"),
        (Simulator.botUserID, "bot and app users"),
    ])
    func usersSlackWillNotDeactivateAreRefusedWithAReason(userID: String, reason: String) async throws {
        try await withSlackAdmin { world in
            let outcome = try await world.client().deactivate(userID: userID)
            guard case .refused(let text) = outcome else {
                Issue.record("expected a refusal, got \(outcome)")
                return
            }
            #expect(text.contains(reason))
            #expect(world.simulator.requests(method: "DELETE").count == 1)
            #expect(world.simulator.isActive(userID) == true)
        }
    }

    @Test func theUserShowsWhatTheShapeCarries() async throws {
        try await withSlackAdmin { world in
            let client = world.client()
            let owner = try #require(try await client.user(id: Simulator.primaryOwnerID))
            #expect(owner.isPrimaryOwner)
            #expect(owner.active)
            #expect(owner.userName == "venkman")
            #expect(owner.displayName == "Peter Venkman")
            #expect(!owner.isBot)
            let bot = try #require(try await client.user(id: Simulator.botUserID))
            #expect(bot.isBot)
            #expect(!bot.isPrimaryOwner)
            #expect(bot.email == "deploy-bot@slack-bots.com")
            let v1 = try #require(try await world.client(version: .v1).user(id: Simulator.inactiveUserID))
            #expect(
                v1
                    == SCIMUser(
                        id: Simulator.inactiveUserID, userName: "stantz", displayName: "Ray Stantz", active: false,
                        email: "stantz@example.com"))
            #expect(world.simulator.requests.last?.path == SlackAdminHarness.path(Simulator.inactiveUserID, .v1))
        }
    }

    @Test func aWrongTokenIsAnErrorNotARefusal() async throws {
        try await withSlackAdmin { world in
            let error = await #expect(throws: SlackAdminError.self) {
                _ = try await world.client(token: "xoxp-wrong").deactivate(userID: Simulator.activeUserID)
            }
            #expect(error == .scim(status: 401, detail: "invalid_authentication"))
            #expect(error?.isRetryable == false)
            #expect(world.simulator.requests(method: "DELETE").isEmpty)
        }
    }

    @Test func userIDsCannotLeaveTheirPathSegment() async throws {
        try await withSlackAdmin { world in
            let user = try await world.client().user(id: "../Groups/S1")
            #expect(user == nil)
            #expect(world.simulator.requests.first?.path == "/scim/v2/Users/%2E%2E%2FGroups%2FS1")
        }
    }

    // MARK: reactivate

    @Test(arguments: [
        (
            SCIMVersion.v2,
            #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}"#
        ),
        (SCIMVersion.v1, #"{"schemas":["urn:scim:schemas:core:1.0"],"active":true}"#),
    ])
    func reactivatingSendsTheVersionsPatchBody(version: SCIMVersion, body: String) async throws {
        try await withSlackAdmin { world in
            let outcome = try await world.client(version: version).reactivate(userID: Simulator.inactiveUserID)
            #expect(outcome == .reactivated)
            #expect(world.simulator.isActive(Simulator.inactiveUserID) == true)
            #expect(world.simulator.requests.map(\.httpMethod) == ["GET", "PATCH"])
            let patch = try #require(world.simulator.requests(method: "PATCH").first)
            #expect(patch.path == SlackAdminHarness.path(Simulator.inactiveUserID, version))
            #expect(patch.body == body)
            #expect(patch.contentType == "application/json; charset=utf-8")
            #expect(patch.authorization == "Bearer \(SlackAdminHarness.token)")
        }
    }

    @Test func anActiveUserIsNotReactivatedAgain() async throws {
        try await withSlackAdmin { world in
            let outcome = try await world.client().reactivate(userID: Simulator.activeUserID)
            #expect(outcome == .alreadyActive)
            #expect(world.simulator.requests.map(\.httpMethod) == ["GET"])
        }
    }

    @Test(arguments: SCIMVersion.allCases)
    func blockThenRollbackRoundTrips(version: SCIMVersion) async throws {
        try await withSlackAdmin { world in
            let client = world.client(version: version)
            let first = try await client.deactivate(userID: Simulator.activeUserID)
            let second = try await client.deactivate(userID: Simulator.activeUserID)
            let rollback = try await client.reactivate(userID: Simulator.activeUserID)
            #expect(first == .deactivated)
            #expect(second == .alreadyInactive)
            #expect(rollback == .reactivated)
            #expect(world.simulator.isActive(Simulator.activeUserID) == true)
            #expect(world.simulator.requests.map(\.httpMethod) == ["GET", "DELETE", "GET", "GET", "PATCH"])
        }
    }

    // MARK: sessions

    @Test func resettingSessionsPostsTheUserAsJSON() async throws {
        try await withSlackAdmin { world in
            try await world.client().resetSessions(userID: Simulator.activeUserID)
            #expect(world.simulator.sessionResets(for: Simulator.activeUserID) == 1)
            let call = try #require(world.simulator.requests.first)
            #expect(call.httpMethod == "POST")
            #expect(call.path == SlackAdminHarness.sessionResetPath)
            #expect(call.authorization == "Bearer \(SlackAdminHarness.token)")
            #expect(call.contentType == "application/json; charset=utf-8")
            #expect(call.json == ["user_id": .string(Simulator.activeUserID)])
        }
    }

    @Test func okFalseIsAnAPIErrorWithSlacksCode() async throws {
        try await withSlackAdmin { world in
            let sleep = RecordingSleep()
            let client = world.client(sleep: sleep)
            let unknown = await #expect(throws: SlackAdminError.self) {
                try await client.resetSessions(userID: "W0NOBODY01")
            }
            #expect(unknown == .api(method: "admin.users.session.reset", code: "user_not_found"))
            #expect(unknown?.isRetryable == false)

            world.simulator.inject([.error("not_allowed_token_type")], path: SlackAdminHarness.sessionResetPath)
            let refused = await #expect(throws: SlackAdminError.self) {
                try await client.resetSessions(userID: Simulator.activeUserID)
            }
            #expect(refused == .api(method: "admin.users.session.reset", code: "not_allowed_token_type"))
            #expect(world.simulator.sessionResets(for: Simulator.activeUserID) == 0)
            #expect(world.simulator.requests.count == 2)
            #expect(sleep.durations.isEmpty)
        }
    }

    @Test func sessionResetWaitsOutARateLimitAndRetriesServerErrors() async throws {
        try await withSlackAdmin { world in
            world.simulator.inject([.rateLimited(retryAfter: 3), .status(502)], path: SlackAdminHarness.sessionResetPath)
            let sleep = RecordingSleep()
            let probe = RecordingBucketWaits()
            let bucket = probe.bucket()
            try await world.client(sleep: sleep, bucket: bucket).resetSessions(userID: Simulator.activeUserID)
            #expect(world.simulator.sessionResets(for: Simulator.activeUserID) == 1)
            #expect(world.simulator.requests.count == 3)
            let waits = sleep.durations
            try #require(waits.count == 2)
            #expect(waits[0] == .seconds(3))
            #expect(waits[1] >= .milliseconds(500) && waits[1] <= .milliseconds(1_500))
            // A Web API limit is not the SCIM budget: the write bucket is left alone.
            try await bucket.acquire()
            #expect(probe.waits.isEmpty)
        }
    }

    // MARK: rate limits and failures

    @Test func aRateLimitedDeleteWaitsRetryAfterDrainsTheBucketAndSucceeds() async throws {
        try await withSlackAdmin { world in
            let path = SlackAdminHarness.path(Simulator.activeUserID)
            world.simulator.inject([.rateLimited(retryAfter: 2)], method: "DELETE", path: path)
            let sleep = RecordingSleep()
            let probe = RecordingBucketWaits()
            let bucket = probe.bucket()
            let outcome = try await world.client(sleep: sleep, bucket: bucket).deactivate(userID: Simulator.activeUserID)
            #expect(outcome == .deactivated)
            #expect(world.simulator.requests.map(\.httpMethod) == ["GET", "DELETE", "DELETE"])
            #expect(sleep.durations == [.seconds(2)])
            #expect(world.simulator.isActive(Simulator.activeUserID) == false)
            // The bucket was emptied for the Retry-After: the next writer anywhere would wait about that long.
            #expect(probe.waits.isEmpty)
            await #expect(throws: CancellationError.self) { try await bucket.acquire() }
            let wait = try #require(probe.waits.first)
            #expect(wait >= .milliseconds(1_900) && wait <= .seconds(3))
        }
    }

    @Test func aRetryAfterBeyondThePolicyGoesToTheCaller() async throws {
        try await withSlackAdmin { world in
            let path = SlackAdminHarness.path(Simulator.activeUserID)
            world.simulator.inject([.rateLimited(retryAfter: 120)], method: "DELETE", path: path)
            let sleep = RecordingSleep()
            let error = await #expect(throws: SlackAdminError.self) {
                _ = try await world.client(sleep: sleep).deactivate(userID: Simulator.activeUserID)
            }
            #expect(error == .rateLimited(retryAfter: .seconds(120)))
            #expect(error?.isRetryable == true)
            #expect(sleep.durations.isEmpty)
            #expect(world.simulator.isActive(Simulator.activeUserID) == true)
        }
    }

    @Test func serverErrorsAreRetriedAfterReadingTheUserAgain() async throws {
        try await withSlackAdmin { world in
            let path = SlackAdminHarness.path(Simulator.activeUserID)
            world.simulator.inject([.status(502)], method: "GET", path: path)
            world.simulator.inject([.status(503), .status(500)], method: "DELETE", path: path)
            let sleep = RecordingSleep()
            let outcome = try await world.client(sleep: sleep).deactivate(userID: Simulator.activeUserID)
            #expect(outcome == .deactivated)
            #expect(world.simulator.requests.map(\.httpMethod) == ["GET", "GET", "DELETE", "GET", "DELETE", "GET", "DELETE"])
            let waits = sleep.durations
            try #require(waits.count == 3)
            // Backoff 0.5 s (the read), then 0.5 s and 1 s for the writes, each jittered by ±50 %.
            #expect(waits[0] >= .milliseconds(250) && waits[0] <= .milliseconds(750))
            #expect(waits[1] >= .milliseconds(250) && waits[1] <= .milliseconds(750))
            #expect(waits[2] >= .milliseconds(500) && waits[2] <= .milliseconds(1_500))
        }
    }

    @Test func aLostAnswerIsNotRepeatedOnceTheReadShowsItTookEffect() async throws {
        try await withSlackAdmin { world in
            let path = SlackAdminHarness.path(Simulator.inactiveUserID)
            world.simulator.inject([.lostAnswer], method: "PATCH", path: path)
            let outcome = try await world.client().reactivate(userID: Simulator.inactiveUserID)
            #expect(outcome == .reactivated)
            #expect(world.simulator.requests.map(\.httpMethod) == ["GET", "PATCH", "GET"])
        }
    }

    @Test func retriesStopAtMaxAttempts() async throws {
        try await withSlackAdmin { world in
            let path = SlackAdminHarness.path(Simulator.activeUserID)
            world.simulator.inject([.status(503), .status(503), .status(503)], method: "DELETE", path: path)
            let sleep = RecordingSleep()
            let error = await #expect(throws: SlackAdminError.self) {
                _ = try await world.client(sleep: sleep, retry: RetryPolicy(maxAttempts: 3)).deactivate(userID: Simulator.activeUserID)
            }
            #expect(error == .scim(status: 503, detail: "HTTP 503"))
            #expect(error?.isRetryable == true)
            #expect(world.simulator.requests(method: "DELETE").count == 3)
            #expect(sleep.durations.count == 2)
        }
    }

    @Test func anUnreachableSlackIsATransportError() async throws {
        let sleep = RecordingSleep()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        // Port 1 on loopback: nothing listens there, so the connection is refused at once.
        let client = SlackAdminClient(
            transport: transport, scimBaseURL: "http://127.0.0.1:1/scim/v2", token: SlackAdminHarness.token,
            scimWrites: RecordingBucketWaits().bucket(), retry: RetryPolicy(maxAttempts: 2), sleep: sleep.sleep, logger: quietLogger)
        let error = await #expect(throws: SlackAdminError.self) {
            _ = try await client.deactivate(userID: Simulator.activeUserID)
        }
        guard case .transport(.connectionFailed) = error else {
            Issue.record("expected connectionFailed, got \(String(describing: error))")
            return
        }
        #expect(error?.isRetryable == true)
        #expect(sleep.durations.count == 1)
    }

    // MARK: logging

    @Test func theTokenIsNeverLogged() async throws {
        try await withSlackAdmin { world in
            let log = RecordingLogLines()
            let client = world.client(logger: log.logger)
            let path = SlackAdminHarness.path(Simulator.activeUserID)
            world.simulator.inject([.status(500)], method: "GET", path: path)
            world.simulator.inject([.rateLimited(retryAfter: 1), .lostAnswer], method: "DELETE", path: path)
            world.simulator.inject([.error("invalid_auth")], path: SlackAdminHarness.sessionResetPath)
            var errors: [SlackAdminError] = []

            let reactivation = try await client.reactivate(userID: Simulator.inactiveUserID)
            #expect(reactivation == .reactivated)
            _ = try await client.deactivate(userID: Simulator.primaryOwnerID)
            do { try await client.resetSessions(userID: Simulator.activeUserID) } catch let error as SlackAdminError { errors.append(error) }
            do {
                _ = try await world.client(token: "xoxp-wrong", logger: log.logger).user(id: Simulator.activeUserID)
            } catch let error as SlackAdminError { errors.append(error) }
            // Last: the drained bucket would refuse any later write.
            let deactivation = try await client.deactivate(userID: Simulator.activeUserID)
            #expect(deactivation == .deactivated)

            let lines = log.lines
            #expect(lines.count >= 8)
            #expect(lines.contains { $0.contains("slack.user_id=\(Simulator.activeUserID)") })
            #expect(lines.contains { $0.contains("rate limited") })
            #expect(errors.count == 2)
            let secret = "SECRETADMIN"
            #expect(!lines.contains { $0.contains(secret) || $0.contains("xoxp-") })
            #expect(!errors.contains { "\($0)".contains(secret) })
        }
    }
}
