import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

@Suite struct ServerAlertFlowTests {
    /// Parameter names Slack's OpenAPI spec lists for a method (plus fields newer than the 2020 spec).
    static func specParameters(_ method: String) throws -> Set<String> {
        let url = CoreFixtures.shared.appendingPathComponent("specs/slack/web-api.openapi.json")
        let spec = try #require(JSONValue.parse(Array(try Data(contentsOf: url))))
        let operation = try #require(spec["paths"]?["/" + method]?.objectValue?.values.first)
        let names = (operation["parameters"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        // `metadata` (message metadata) arrived in 2022, after the spec snapshot.
        return Set(names).union(["metadata"]).subtracting(["token"])
    }

    @Test func alertPostsWellFormedRequestsTheSpecKnows() async throws {
        try await withHarness { h in
            let (alertID, _) = try await h.postedAlert()
            let post = try #require(h.simulator.requests.first { $0.method == "chat.postMessage" })
            #expect(post.authorization == "Bearer \(ServerHarness.botToken)")
            #expect(post.contentType == "application/json; charset=utf-8")
            let body = try #require(post.body?.objectValue)
            #expect(Set(body.keys).isSubset(of: try Self.specParameters("chat.postMessage")))
            #expect(body["channel"] == .string(ServerHarness.channel))
            #expect(SlackSimulator.blockProblem(body["blocks"]) == nil)
            #expect(body["metadata"]?["event_payload"]?["alert_id"] == .string(alertID))
            let actionIDs = body["blocks"]?.arrayValue?.last?["elements"]?.arrayValue?.compactMap { $0["action_id"]?.stringValue }
            #expect(actionIDs == ["ack", "resolve", "dismiss", "snooze", "block_ip"])
            let values = Set(body["blocks"]?.arrayValue?.last?["elements"]?.arrayValue?.compactMap { $0["value"]?.stringValue } ?? [])
            #expect(values == [alertID])
        }
    }

    @Test func acknowledgeUpdatesTheMessageAndRepliesInThread() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            let click = try await h.client.click("ack", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(click.status == 200)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).count == 1 })
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().first?.text.contains("acknowledged") == true })
            let update = try #require(h.simulator.requests.last { $0.method == "chat.update" })
            #expect(Set(update.body?.objectValue?.keys ?? [:].keys).isSubset(of: try Self.specParameters("chat.update")))
            #expect(SlackSimulator.blockProblem(update.body?["blocks"]) == nil)
            let reply = try #require(h.simulator.requests.last { $0.method == "chat.postMessage" && $0.body?["thread_ts"] != nil })
            #expect(Set(reply.body?.objectValue?.keys ?? [:].keys).isSubset(of: try Self.specParameters("chat.postMessage")))
            #expect(h.simulator.replies(to: ts).first?.text.contains("<@U0ALICE> acknowledged") == true)
            let alert = try #require(try await h.store.alert(id: alertID))
            #expect(alert.status == .acknowledged)
            #expect(alert.acknowledgedBy == ServerHarness.alice)
            // The ack-timeout timer is gone.
            h.clock.advance(by: 3_600)
            #expect(try await h.server.scheduler.fireDue() == 0)
        }
    }

    @Test func doubleClickAndClicksOnFinishedAlertsChangeNothingAndSayWhy() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            _ = try await h.client.click("ack", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).count == 1 })
            _ = try await h.client.click("ack", value: alertID, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.responses.count == 1 })
            #expect(h.simulator.responses.last?["text"]?.stringValue?.contains("already acknowledged by <@U0ALICE>") == true)
            #expect(h.simulator.responses.last?["response_type"] == "ephemeral")
            #expect(h.simulator.responses.last?["replace_original"] == false)
            _ = try await h.client.click("resolve", value: alertID, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).count == 2 })
            for action in ["ack", "resolve", "dismiss"] {
                _ = try await h.client.click(action, value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            }
            // Rapid clicks by one person coalesce into as few answers as the runner can keep up with, never none.
            #expect(await h.simulator.waitUntil { $0.responses.count >= 2 })
            #expect(await h.settled())
            #expect((2...4).contains(h.simulator.responses.count))
            #expect(h.simulator.responses.dropFirst().allSatisfy { $0["text"]?.stringValue?.contains("already resolved by <@U0BOB>") == true })
            #expect(h.simulator.replies(to: ts).count == 2)
            let alert = try #require(try await h.store.alert(id: alertID))
            #expect(alert.status == .resolved)
            #expect(alert.closedBy == ServerHarness.bob)
        }
    }

    @Test func nonRespondersAreRefusedAndNothingChanges() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            let before = try await h.store.alert(id: alertID)
            _ = try await h.client.click("resolve", value: alertID, user: "U0MALLORY", responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.responses.count == 1 })
            #expect(h.simulator.responses.first?["text"]?.stringValue?.contains("only responders") == true)
            #expect(try await h.store.alert(id: alertID) == before)
            let audit = try await h.store.auditEntries(after: 0, limit: 100)
            #expect(audit.contains { $0.action == "click.refused" && $0.actor == "U0MALLORY" })
        }
    }

    @Test func userGroupMembersAreResponders() async throws {
        try await withHarness(environment: ["SLACK_RESPONDERS": "S0ONCALL"]) { h in
            h.simulator.setUserGroup("S0ONCALL", members: ["U0CAROL"])
            let (alertID, ts) = try await h.postedAlert()
            _ = try await h.client.click("ack", value: alertID, user: "U0CAROL", responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).count == 1 })
            #expect(try await h.store.alert(id: alertID)?.acknowledgedBy == "U0CAROL")
        }
    }

    @Test func unknownAlertAndUnknownButtonTellTheClicker() async throws {
        try await withHarness { h in
            let unknown = try await h.client.click("ack", value: "A-NOSUCH00", user: ServerHarness.alice, responseURL: h.responseURL)
            #expect(unknown.status == 200)
            #expect(await h.simulator.waitUntil { $0.responses.count == 1 })
            #expect(h.simulator.responses.last?["text"]?.stringValue?.contains("no longer exists or never did") == true)
            let odd = try await h.client.click("launch_missiles", value: "A-NOSUCH00", user: ServerHarness.alice, responseURL: h.responseURL)
            #expect(odd.status == 200)
            #expect(await h.simulator.waitUntil { $0.responses.count == 2 })
            #expect(h.simulator.responses.last?["text"]?.stringValue?.contains("does not know the button") == true)
            #expect(try await h.store.countAlerts().isEmpty)
        }
    }

    @Test func escalationAfterAckTimeoutRepeatsThenStops() async throws {
        try await withHarness { h in
            let (_, ts) = try await h.postedAlert()
            h.clock.advance(by: 901)
            #expect(try await h.server.scheduler.fireDue() == 1)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).count == 1 })
            #expect(h.simulator.replies(to: ts).first?.text.contains("<!subteam^S0ONCALL>") == true)
            h.clock.advance(by: 901)
            #expect(try await h.server.scheduler.fireDue() == 1)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).count == 2 })
            h.clock.advance(by: 901)
            #expect(try await h.server.scheduler.fireDue() == 0)
        }
    }

    @Test func rateLimitsAndServerErrorsAreRetriedNotDropped() async throws {
        try await withHarness { h in
            h.simulator.inject([.rateLimited(retryAfter: 1), .status(503)], for: "chat.postMessage")
            let answer = try await h.client.detection(ServerHarness.detection(), secret: ServerHarness.webhookSecret)
            #expect(answer.status == 202)
            // 429 is retried inside the client; the 503 leaves it unknown, so the runner retries later.
            #expect(await h.simulator.waitUntil(timeout: .seconds(3)) { $0.requests.filter { $0.method == "chat.postMessage" }.count == 2 })
            #expect(h.simulator.topLevelMessages().isEmpty)
            // Wait until the runner has recorded the retry before moving time past it.
            #expect(await eventually { try await h.store.outbox(alertID: nil).contains { $0.effect == .postAlert && $0.lastError != nil } })
            h.clock.advance(by: 10)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 1 })
            // The retry looked in the channel history before posting again.
            #expect(h.simulator.requests.contains { $0.method == "conversations.history" && $0.query["include_all_metadata"] == "true" })
            h.simulator.inject([.error("channel_not_found")], for: "chat.update")
            let alertID = try #require(answer.json?["alert_id"]?.stringValue)
            _ = try await h.client.detection(ServerHarness.detection(id: "evt-2"), secret: ServerHarness.webhookSecret)
            #expect(await h.simulator.waitUntil { $0.requests.filter { $0.method == "chat.update" }.count == 1 })
            #expect(await eventually { try await h.store.outbox(alertID: alertID).contains { $0.state == "failed" } })
            let failed = try await h.store.outbox(alertID: alertID).filter { $0.state == "failed" }
            #expect(failed.count == 1)
            #expect(failed.first?.lastError?.contains("channel_not_found") == true)
        }
    }
}
