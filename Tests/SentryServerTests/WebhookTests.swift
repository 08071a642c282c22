import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

@Suite struct ServerWebhookTests {
    func post(_ h: ServerHarness, _ body: String, headers: [HTTPHeader]) async throws -> LoopbackClient.Answer {
        try await h.client.send("POST", "/hooks/detections", body: Array(body.utf8), headers: headers)
    }

    @Test func endpointIs404WhenNeitherSecretNorTokenIsSet() async throws {
        try await withHarness(environment: ["SENTRY_WEBHOOK_SECRET": "", "SENTRY_WEBHOOK_TOKEN": ""]) { h in
            let answer = try await h.client.detection(ServerHarness.detection(), secret: ServerHarness.webhookSecret)
            #expect(answer.status == 404)
        }
    }

    @Test func bearerAndHMACModes() async throws {
        try await withHarness { h in
            let body = ServerHarness.detection().encoded()
            let bearer = try await post(
                h, body,
                headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", "Bearer \(ServerHarness.webhookToken)")])
            #expect(bearer.status == 202)
            #expect(bearer.json?["status"] == "created")
            let wrongToken = try await post(
                h, body, headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", "Bearer nope")])
            #expect(wrongToken.status == 401)
            let basic = try await post(h, body, headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", "Basic abc")])
            #expect(basic.status == 401)
            let none = try await post(h, body, headers: [HTTPHeader("Content-Type", "application/json")])
            #expect(none.status == 401)
            let signed = try await h.client.detection(ServerHarness.detection(id: "evt-2"), secret: ServerHarness.webhookSecret)
            #expect(signed.status == 202)
            let badSigned = try await h.client.detection(ServerHarness.detection(id: "evt-3"), secret: "wrong-secret")
            #expect(badSigned.status == 401)
            #expect(badSigned.text.contains("signature_mismatch"))
            #expect(!badSigned.text.contains(ServerHarness.webhookSecret))
        }
    }

    @Test func bearerOnlyDeploymentRefusesSignatures() async throws {
        try await withHarness(environment: ["SENTRY_WEBHOOK_SECRET": ""]) { h in
            let signed = try await h.client.detection(ServerHarness.detection(), secret: ServerHarness.webhookSecret)
            #expect(signed.status == 401)
        }
    }

    static let invalidBodies: [(String, String)] = [
        ("not json", ""),
        ("[1,2]", ""),
        (#"{"detection":"x.y","subject":{"ip":"203.0.113.7"}}"#, "id"),
        (#"{"id":"","detection":"x.y","subject":{"ip":"203.0.113.7"}}"#, "id"),
        (#"{"id":"1","subject":{"ip":"203.0.113.7"}}"#, "detection"),
        (#"{"id":"1","detection":"Bad Id!","subject":{"ip":"203.0.113.7"}}"#, "detection"),
        (#"{"id":"1","detection":"x.y","severity":"urgent","subject":{"ip":"203.0.113.7"}}"#, "severity"),
        (#"{"id":"1","detection":"x.y"}"#, "subject"),
        (#"{"id":"1","detection":"x.y","subject":{}}"#, "subject"),
        (#"{"id":"1","detection":"x.y","subject":{"ip":"999.1.1.1"}}"#, "subject.ip"),
        (#"{"id":"1","detection":"x.y","subject":{"user":"U1"}}"#, "subject.user"),
        (#"{"id":"1","detection":"x.y","subject":{"slack_user_id":"bob"}}"#, "subject.slack_user_id"),
        (#"{"id":"1","detection":"x.y","subject":{"ip":"203.0.113.7"},"occurred_at":"yesterday"}"#, "occurred_at"),
    ]

    @Test(arguments: invalidBodies)
    func invalidBodiesAre400NamingTheField(_ body: String, _ field: String) async throws {
        try await withHarness { h in
            let answer = try await post(
                h, body,
                headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", "Bearer \(ServerHarness.webhookToken)")])
            #expect(answer.status == 400)
            #expect(answer.json?["field"]?.stringValue == field)
            if !field.isEmpty { #expect(answer.json?["error"]?.stringValue?.hasPrefix(field + ":") == true) }
            #expect(try await h.store.countAlerts().isEmpty)
        }
    }

    @Test func wrongContentTypeIs415() async throws {
        try await withHarness { h in
            let answer = try await post(
                h, ServerHarness.detection().encoded(),
                headers: [HTTPHeader("Content-Type", "text/plain"), HTTPHeader("Authorization", "Bearer \(ServerHarness.webhookToken)")])
            #expect(answer.status == 415)
        }
    }

    @Test func unknownDetectionWithoutCatchAllIs422() async throws {
        try await withHarness { h in
            let answer = try await h.client.detection(ServerHarness.detection(detection: "custom.unknown"), secret: ServerHarness.webhookSecret)
            #expect(answer.status == 422)
            #expect(answer.text.contains("custom.unknown"))
        }
    }

    @Test func catchAllPlaybookTakesUnknownDetections() async throws {
        let playbooks = ServerHarness.testPlaybooks + [Playbook(id: "generic", title: "Generic", detection: "*", severity: .low)]
        try await withHarness(playbooks: playbooks) { h in
            let answer = try await h.client.detection(ServerHarness.detection(detection: "custom.unknown"), secret: ServerHarness.webhookSecret)
            #expect(answer.status == 202)
            let alert = try #require(try await h.store.alert(id: answer.json?["alert_id"]?.stringValue ?? ""))
            #expect(alert.playbookID == "generic")
        }
    }

    @Test func duplicateAndGroupedDetections() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert(id: "evt-1")
            let duplicate = try await h.client.detection(ServerHarness.detection(id: "evt-1"), secret: ServerHarness.webhookSecret)
            #expect(duplicate.json == ["alert_id": .string(alertID), "status": "duplicate"])
            let grouped = try await h.client.detection(ServerHarness.detection(id: "evt-2"), secret: ServerHarness.webhookSecret)
            #expect(grouped.json == ["alert_id": .string(alertID), "status": "grouped"])
            #expect(await h.simulator.waitUntil { ($0.topLevelMessages().first?.edits ?? 0) >= 1 })
            #expect(h.simulator.topLevelMessages().count == 1)
            #expect(h.simulator.topLevelMessages().first?.ts == ts)
            let alert = try #require(try await h.store.alert(id: alertID))
            #expect(alert.occurrences == 2)
            // Another subject is another alert.
            let other = try await h.client.detection(ServerHarness.detection(id: "evt-3", ip: "198.51.100.9"), secret: ServerHarness.webhookSecret)
            #expect(other.json?["status"] == "created")
            #expect(other.json?["alert_id"]?.stringValue != alertID)
        }
    }

    @Test func groupingWindowEnds() async throws {
        try await withHarness { h in
            let (alertID, _) = try await h.postedAlert(id: "evt-1")
            h.clock.advance(by: 3_601)
            let later = try await h.client.detection(ServerHarness.detection(id: "evt-2"), secret: ServerHarness.webhookSecret)
            #expect(later.json?["status"] == "created")
            #expect(later.json?["alert_id"]?.stringValue != alertID)
        }
    }
}
