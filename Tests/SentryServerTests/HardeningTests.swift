import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import Testing

/// What a flaky Slack and odd input did to the bot: alerts refused for their blocks, replies posted twice.
@Suite struct ServerHardeningTests {
    static func withLoggedHarness(_ body: (ServerHarness, RecordingMerakiLog) async throws -> Void) async throws {
        let capture = RecordingMerakiLog()
        try await withHarness(logger: capture.logger) { try await body($0, capture) }
    }

    @Test func aTitleOfCombiningMarksIsPostedInFull() async throws {
        try await withHarness { h in
            var detection = ServerHarness.detection(id: "combining")
            detection = .object((detection.objectValue ?? [:]).merging(["title": .string(String(repeating: "e\u{301}", count: 240))]) { $1 })
            let answer = try await h.client.detection(detection, secret: ServerHarness.webhookSecret)
            #expect(answer.status == 202)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 1 })
            let message = try #require(h.simulator.topLevelMessages().first)
            // The full rendering went through (Slack counts scalars, and so does the renderer now).
            #expect(message.blocks?.arrayValue?.first?["type"] == "header")
            let header = message.blocks?.arrayValue?.first?["text"]?["text"]?.stringValue ?? ""
            #expect(BlockKitText.length(header) <= 150)
            #expect(!h.simulator.requests.contains { $0.method == "chat.postMessage" && $0.body?["blocks"]?.arrayValue?.first?["type"] == "section" })
        }
    }

    @Test func blocksSlackRefusesAreSentInTheMinimalFormAndLoggedOnce() async throws {
        try await Self.withLoggedHarness { h, logs in
            h.simulator.inject([.error("invalid_blocks")], for: "chat.postMessage")
            let answer = try await h.client.detection(ServerHarness.detection(id: "refused"), secret: ServerHarness.webhookSecret)
            let alertID = try #require(answer.json?["alert_id"]?.stringValue)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 1 })
            let message = try #require(h.simulator.topLevelMessages().first)
            let blocks = try #require(message.blocks?.arrayValue)
            #expect(blocks.first?["text"]?["type"] == "plain_text")
            #expect(blocks.first?["text"]?["text"]?.stringValue?.contains(alertID) == true)
            let buttons = blocks.last?["elements"]?.arrayValue?.compactMap { $0["action_id"]?.stringValue }
            #expect(buttons == ["ack", "resolve", "dismiss", "snooze", "block_ip"])
            #expect(await eventually { try await h.store.alert(id: alertID)?.message?.ts == message.ts })

            // The message stays usable: a click updates it, and a refused update falls back the same way.
            h.simulator.inject([.error("invalid_blocks")], for: "chat.update")
            _ = try await h.client.click("ack", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: message.ts)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().first?.edits == 1 })
            let updated = try #require(h.simulator.topLevelMessages().first)
            #expect(updated.blocks?.arrayValue?.first?["text"]?["text"]?.stringValue?.contains("acknowledged") == true)

            let page = await h.metrics.render(store: try await h.store.gauges())
            #expect(page.contains(#"sentry_slack_fallback_messages_total{effect="post_alert"} 1"#))
            #expect(page.contains(#"sentry_slack_fallback_messages_total{effect="update_message"} 1"#))
            let refusals = logs.lines.filter { $0.hasPrefix("error") && $0.contains("refused the alert's blocks") }
            #expect(refusals.count == 1, "logged once per alert: \(refusals)")
            #expect(await eventually { try await h.store.outbox(alertID: alertID).allSatisfy { $0.state == "done" } })
        }
    }

    @Test func aReplyWhoseAnswerWasLostIsNotPostedAgain() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            // Slack posts the reply, then the answer is lost: the runner cannot know it went through.
            h.simulator.inject([.lostAnswer], for: "chat.postMessage")
            _ = try await h.client.click("ack", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).count == 1 })
            #expect(
                await eventually {
                    try await h.store.outbox(alertID: alertID).contains { if case .replyInThread = $0.effect { $0.lastError != nil } else { false } }
                })
            h.clock.advance(by: 30)
            #expect(
                await eventually {
                    try await h.store.outbox(alertID: alertID).contains { if case .replyInThread = $0.effect { $0.state == "done" } else { false } }
                })
            #expect(h.simulator.replies(to: ts).count == 1, "one acknowledged reply, not two")
            #expect(
                h.simulator.requests.contains {
                    $0.method == "conversations.replies" && $0.query["ts"] == ts && $0.query["include_all_metadata"] == "true"
                })
            // The reply carries the key it was found by.
            let reply = try #require(h.simulator.replies(to: ts).first)
            #expect(reply.metadata?["event_type"] == .string(EffectRunner.replyEventType))
            #expect(reply.metadata?["event_payload"]?["effect_key"]?.stringValue?.hasPrefix(alertID) == true)
        }
    }

    @Test func aNoticeWhoseAnswerWasLostIsNotPostedAgain() async throws {
        try await withHarness { h in
            h.simulator.inject([.lostAnswer], for: "chat.postMessage")
            let event: JSONValue = [
                "type": "event_callback", "event_id": "Ev0LOST",
                "event": ["type": "app_mention", "channel": .string(ServerHarness.channel), "text": "<@U0SENTRYBOT> status", "user": "U0ALICE"],
            ]
            let answer = try await h.client.slack("/slack/events", form: event.encoded(), contentType: "application/json")
            #expect(answer.status == 200)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 1 })
            #expect(await eventually { try await h.store.outbox(alertID: nil).contains { $0.lastError != nil } })
            h.clock.advance(by: 30)
            #expect(await eventually { try await h.store.outbox(alertID: nil).allSatisfy { $0.state == "done" } })
            #expect(h.simulator.topLevelMessages().count == 1)
            #expect(h.simulator.requests.contains { $0.method == "conversations.history" })
        }
    }
}

extension ServeProcesses {
    /// SIGKILL between Slack's answer to a thread reply and the commit that records it.
    @Suite struct ServerReplyCrashTests {
        let crash = ServerCrashTests()

        @Test func killedWhileSlackHoldsTheReplyAnswerThenRestartedRepliesOnce() async throws {
            let world = try await ServeHarness.start("crash-reply")
            defer { world.removeFiles() }
            let (simulator, slackApp, database, port, client) = (world.simulator, world.slackApp, world.database, world.port, world.client)
            let slackURL = "http://127.0.0.1:\(slackApp.port)"
            let first = try crash.startServe(port: port, database: database, slackURL: slackURL)
            #expect(await crash.waitForReady(client))
            let answer = try await client.detection(ServerHarness.detection(id: "crash-reply-1"), token: ServerHarness.webhookToken)
            let alertID = try #require(answer.json?["alert_id"]?.stringValue)
            #expect(await simulator.waitUntil { $0.topLevelMessages().count == 1 })
            let ts = try #require(simulator.topLevelMessages().first?.ts)
            let store = try SQLiteAlertStore(path: database)
            #expect(await eventually { try await store.alert(id: alertID)?.message?.ts == ts })

            // Slack posts the "acknowledged" reply and holds its answer; the process dies meanwhile.
            simulator.inject([.stall(seconds: 30)], for: "chat.postMessage")
            let click = try await client.click(
                "ack", value: alertID, user: "U0ANYONE", responseURL: "\(slackURL)/response/x", channel: ServerHarness.channel, messageTS: ts)
            #expect(click.status == 200)
            #expect(await simulator.waitUntil { $0.replies(to: ts).count == 1 })
            kill(first.processIdentifier, SIGKILL)
            await ServeProcesses.exit(first)

            let second = try crash.startServe(port: port, database: database, slackURL: slackURL)
            defer {
                second.terminate()
                second.waitUntilExit()
            }
            #expect(await crash.waitForReady(client))
            #expect(
                await eventually(timeout: .seconds(20)) {
                    try await store.outbox(alertID: alertID).allSatisfy { $0.state == "done" }
                })
            #expect(simulator.requests.contains { $0.method == "conversations.replies" })
            #expect(simulator.replies(to: ts).count == 1, "one acknowledged reply after the restart, not two")
            await slackApp.stop()
        }
    }
}

extension ServerHardeningTests {
    /// A form's `private_metadata` is input: a forged target is refused by the machine, audited, never run.
    @Test(arguments: ["127.0.0.1", "224.0.0.1", "10.0.0.0/8", "198.51.100.77"])
    func aForgedFormTargetNeverReachesMeraki(target: String) async throws {
        try await withHarness(playbooks: ServerContainmentFlowTests.playbooks) { h in
            let (alertID, _) = try await h.postedAlert()
            let forged = ContainmentModal.Metadata(alertID: alertID, kind: .blockIP, target: target).encoded
            let answer = try await h.client.submitView(
                callbackID: ContainmentModal.callbackID, user: ServerHarness.alice, privateMetadata: forged,
                values: ServerContainmentFlowTests.ttlValues("1h", "forged metadata"))
            #expect(answer.status == 200)
            #expect(answer.json?["response_action"] == "errors")
            #expect(try await h.store.alert(id: alertID)?.containments.isEmpty == true)
            #expect(
                try await h.store.auditEntries(after: 0, limit: 100).contains { $0.action == "containment.refused" && $0.detail.contains(target) })
            // Nothing was queued for Meraki, so nothing can run after an approval.
            #expect(try await h.store.outbox(alertID: alertID).allSatisfy { if case .executeContainment = $0.effect { false } else { true } })
            #expect(h.meraki.requests.filter { $0.method == "PUT" }.isEmpty)
        }
    }

    @Test func aFormForAKindTheAlertDoesNotOfferIsRefused() async throws {
        try await withHarness(playbooks: ServerContainmentFlowTests.playbooks) { h in
            let (alertID, _) = try await h.postedAlert()
            let forged = ContainmentModal.Metadata(alertID: alertID, kind: .blockUser, target: "U0ALICE").encoded
            let answer = try await h.client.submitView(
                callbackID: ContainmentModal.callbackID, user: ServerHarness.bob, privateMetadata: forged,
                values: ServerContainmentFlowTests.ttlValues("1h", "forged metadata"))
            #expect(answer.json?["response_action"] == "errors")
            #expect(try await h.store.alert(id: alertID)?.containments.isEmpty == true)
            #expect(h.slackAdmin.requests.isEmpty)
        }
    }
}

extension ServerHardeningTests {
    /// A client that stops sending in the middle of a body is cut off after the idle timeout, not held for ever.
    @Test func aStalledBodyIsCutOffAfterTheIdleTimeout() async throws {
        try await withHarness(environment: ["SENTRY_HTTP_IDLE_TIMEOUT": "1"]) { h in
            let port = h.sentryApp.port
            let connection = try #require(RawConnection(port: port, readTimeout: .seconds(10)))
            let body = Array(ServerHarness.detection(id: "stalled").encoded().utf8)
            connection.write(
                "POST /hooks/detections HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Authorization: Bearer \(ServerHarness.webhookToken)\r\nContent-Length: \(body.count)\r\n\r\n")
            connection.write(Array(body.prefix(10)))
            let started = ContinuousClock.now
            #expect(await connection.closedByPeer(), "the server closed the stalled connection")
            let took = ContinuousClock.now - started
            #expect(took < .seconds(5), "closed after \(took)")
            #expect(try await h.store.alerts(statuses: [.open], limit: 10).isEmpty)
            // Requests that keep coming are unaffected.
            #expect(try await h.client.detection(ServerHarness.detection(id: "after"), token: ServerHarness.webhookToken).status == 202)
        }
    }
}
