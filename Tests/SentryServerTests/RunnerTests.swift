import Foundation
import SentryConnectors
import SentryCore
import SentryEngine
import SentryServer
import SentryStore
import SentryTestSupport
import Testing

/// The effect runner's ordering, coalescing and isolation under slow or rate-limited Slack.
@Suite struct ServerRunnerTests {
    @Test func aChangeWhileAnUpdateIsInFlightGetsItsOwnUpdate() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert(id: "evt-1")
            // The next chat.update is held by Slack for a second; the alert changes meanwhile.
            h.simulator.inject([.stall(seconds: 1)], for: "chat.update")
            _ = try await h.client.detection(ServerHarness.detection(id: "evt-2"), secret: ServerHarness.webhookSecret)
            #expect(await h.simulator.waitUntil { $0.requests.contains { $0.method == "chat.update" } })
            _ = try await h.client.click("ack", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().first?.text.contains("acknowledged") == true })
            let blocks = h.simulator.topLevelMessages().first?.blocks
            #expect(Transcript.text(blocks).contains("Acknowledged by"))
        }
    }

    @Test func repliesKeepTheirOrderAcrossARateLimitedRetry() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            // The acknowledgement's reply is rate limited past the client's own retries.
            h.simulator.inject(Array(repeating: .rateLimited(retryAfter: 2), count: 5), for: "chat.postMessage")
            _ = try await h.client.click("ack", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await h.store.outbox(alertID: alertID).contains { $0.lastError?.contains("rate limited") == true } })
            _ = try await h.client.click("resolve", value: alertID, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.settled())
            #expect(h.simulator.replies(to: ts).isEmpty)
            // Slack asked for 2 s: nothing moves before that, everything in order after.
            h.clock.advance(by: 1)
            #expect(await h.settled())
            #expect(h.simulator.replies(to: ts).isEmpty)
            h.clock.advance(by: 3)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).count == 2 })
            let texts = h.simulator.replies(to: ts).map(\.text)
            #expect(texts.first?.contains("acknowledged") == true)
            #expect(texts.last?.contains("resolved") == true)
            // A rate limit does not use up an attempt. Posts (the alert, thread replies) count each attempt before
            // they send, so a crash cannot hide one: theirs is the one that went through.
            #expect(
                try await h.store.outbox(alertID: alertID).allSatisfy { entry in
                    if case .replyInThread = entry.effect { return entry.attempts == 1 }
                    return entry.attempts == 0 || entry.effect == .postAlert
                })
        }
    }

    @Test func aSlowCallHoldsBackOnlyItsOwnAlert() async throws {
        try await withHarness { h in
            let first = try await h.postedAlert(id: "evt-1")
            let second = try await h.client.detection(ServerHarness.detection(id: "evt-2", ip: "198.51.100.9"), secret: ServerHarness.webhookSecret)
            let secondID = try #require(second.json?["alert_id"]?.stringValue)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 2 })
            #expect(await eventually { try await h.store.alert(id: secondID)?.message != nil })
            let secondTS = try #require(h.simulator.topLevelMessages().last?.ts)
            h.simulator.inject([.stall(seconds: 3)], for: "chat.update")
            _ = try await h.client.detection(ServerHarness.detection(id: "evt-3"), secret: ServerHarness.webhookSecret)
            #expect(await h.simulator.waitUntil { $0.requests.contains { $0.method == "chat.update" } })
            let started = ContinuousClock.now
            _ = try await h.client.click("ack", value: secondID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: secondTS)
            #expect(await h.simulator.waitUntil(timeout: .seconds(2)) { $0.replies(to: secondTS).count == 1 })
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(h.simulator.replies(to: first.ts).isEmpty)
        }
    }

    @Test func aReplyIsRecordedAsSoonAsItIsPosted() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            _ = try await h.client.click("ack", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).count == 1 })
            #expect(
                await eventually {
                    try await h.store.outbox(alertID: alertID).contains { if case .replyInThread = $0.effect { $0.state == "done" } else { false } }
                })
        }
    }

    @Test func anUnreadableOutboxRowIsSetAsideAndTheRestRun() async throws {
        let store = try SQLiteAlertStore.inMemory()
        let playbook = ServerHarness.testPlaybooks[0]
        let detection = try Detection.decodeWebhook(Array(ServerHarness.detection().encoded().utf8))
        _ = try await store.engine.ingest(detection, playbook: playbook, channel: ServerHarness.channel, newAlertID: "A-GOODROW1", now: Date())
        try await store.unsafeExecute(
            "INSERT INTO outbox (alert_id, effect, idempotency_key, next_attempt_at, created_at) VALUES (NULL, '{\"fromTheFuture\":{}}', 'x', 0, 0)")
        let due = try await store.dueEffects(now: Date(), limit: 10)
        #expect(due.map(\.alertID) == ["A-GOODROW1"])
        // Listing skips what it cannot read; the row is no longer pending.
        #expect(try await store.outbox(alertID: nil).count == 1)
        #expect(try await store.outboxDepth() == 1)
    }
}
