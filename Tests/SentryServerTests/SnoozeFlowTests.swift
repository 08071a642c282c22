import Foundation
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// Snooze end to end: the button, the form, quiet detections, `/sentry snooze list`, expiry and `/sentry unsnooze`.
@Suite struct SnoozeFlowTests {
    static func values(_ duration: String, _ reason: String) -> JSONValue {
        [
            SnoozeModal.durationBlock: [SnoozeModal.durationAction: ["type": "plain_text_input", "value": .string(duration)]],
            SnoozeModal.reasonBlock: [SnoozeModal.reasonAction: ["type": "plain_text_input", "value": .string(reason)]],
        ]
    }

    /// Presses Snooze… and submits the form.
    func snooze(_ h: ServerHarness, alertID: String, ts: String, duration: String = "2h") async throws {
        let before = h.simulator.views.count
        _ = try await h.client.click("snooze", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
        #expect(await h.simulator.waitUntil { $0.views.count == before + 1 })
        let view = try #require(h.simulator.views.last)
        #expect(view["callback_id"] == .string(SnoozeModal.callbackID))
        let metadata = try #require(view["private_metadata"]?.stringValue)
        let wrong = try await h.client.submitView(
            callbackID: SnoozeModal.callbackID, user: ServerHarness.alice, privateMetadata: metadata, values: Self.values("forever", "x"))
        #expect(wrong.json?["response_action"] == "errors")
        #expect(wrong.json?["errors"]?[SnoozeModal.durationBlock] != nil)
        #expect(try await h.store.alert(id: alertID)?.snooze == nil)
        let submitted = try await h.client.submitView(
            callbackID: SnoozeModal.callbackID, user: ServerHarness.alice, privateMetadata: metadata, values: Self.values(duration, "known scanner"))
        #expect(submitted.status == 200)
        #expect(submitted.body.isEmpty)
    }

    @Test func aSnoozeQuietsTheDetectionThenTheThreadCountsWhatArrived() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            // A non-responder is refused and nothing opens.
            let views = h.simulator.views.count
            _ = try await h.client.click("snooze", value: alertID, user: "U0MALLORY", responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.responses.contains { $0["text"]?.stringValue?.contains("only responders can snooze") == true } })
            #expect(h.simulator.views.count == views)

            try await snooze(h, alertID: alertID, ts: ts)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).contains { $0.text.contains("snoozed this alert until") } })
            #expect(await h.simulator.waitUntil { Transcript.text($0.topLevelMessages().first?.blocks).contains("\"action_id\":\"unsnooze\"") })
            #expect(await eventually { try await h.store.outboxDepth() == 0 })
            let updates = h.simulator.topLevelMessages().first?.edits ?? 0

            // Two more detections of the same subject: counted, no post, no update.
            for id in ["evt-2", "evt-3"] {
                let answer = try await h.client.detection(ServerHarness.detection(id: id), secret: ServerHarness.webhookSecret)
                #expect(answer.json?["status"] == "grouped")
            }
            let quiet = try #require(try await h.store.alert(id: alertID))
            #expect(quiet.occurrences == 3)
            #expect(quiet.snooze?.suppressed == 2)
            #expect(try await h.store.outboxDepth() == 0)
            #expect(h.simulator.topLevelMessages().count == 1)
            #expect(h.simulator.topLevelMessages().first?.edits == updates)

            let list = try await h.client.command("snooze list", user: ServerHarness.alice)
            let text = try #require(list.json?["text"]?.stringValue)
            #expect(text.contains(alertID))
            #expect(text.contains("2 detections since"))
            let refusedList = try await h.client.command("snooze list", user: "U0MALLORY")
            #expect(refusedList.json?["text"]?.stringValue?.contains("only responders") == true)

            // The acknowledgement timeout (15 min) passes in silence; the snooze (2 h) ends and says what came.
            h.clock.advance(by: 2 * 3_600 + 1)
            // The scheduler's pass, driven here rather than waited for: the snooze's end is the one timer due.
            #expect(try await h.server.scheduler.fireDue() == 1)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).contains { $0.text.contains("2 detections arrived while it was on") } })
            #expect(!h.simulator.replies(to: ts).contains { $0.text.contains("not acknowledged") })
            #expect(await eventually { try await h.store.alert(id: alertID)?.snooze == nil })
            let audit = try await h.store.auditEntries(after: 0, limit: 100).map(\.action)
            #expect(audit.contains("alert.snoozed") && audit.contains("alert.snooze_expired") && audit.contains("snooze.refused"))
        }
    }

    @Test func unsnoozeFromTheCommandEndsItForRespondersOnly() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            try await snooze(h, alertID: alertID, ts: ts, duration: "7d")
            #expect(await eventually { try await h.store.alert(id: alertID)?.snooze != nil })

            let refused = try await h.client.command("unsnooze \(alertID)", user: "U0MALLORY")
            #expect(refused.json?["text"]?.stringValue?.contains("only responders") == true)
            #expect(try await h.store.alert(id: alertID)?.snooze != nil)
            let unknown = try await h.client.command("unsnooze A-NOSUCH00", user: ServerHarness.bob)
            #expect(unknown.json?["text"]?.stringValue?.contains("No alert") == true)

            let ended = try await h.client.command("unsnooze \(alertID)", user: ServerHarness.bob)
            #expect(ended.json?["text"]?.stringValue?.contains("ended") == true)
            #expect(try await h.store.alert(id: alertID)?.snooze == nil)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).contains { $0.text.contains("ended the snooze") } })
            let twice = try await h.client.command("unsnooze \(alertID)", user: ServerHarness.bob)
            #expect(twice.json?["text"]?.stringValue?.contains("not snoozed") == true)
            #expect(try await h.store.dueTimers(now: Date.distantFuture, limit: 10).allSatisfy { $0.kind != .snoozeExpiry })
        }
    }

    @Test func aFormSubmittedTwiceSnoozesOnceAndSaysSoOnce() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            _ = try await h.client.click("snooze", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { !$0.views.isEmpty })
            let metadata = try #require(h.simulator.views.last?["private_metadata"]?.stringValue)
            // Slack retries a submission whose answer was slow, and people press Submit twice.
            for _ in 0..<2 {
                let submitted = try await h.client.submitView(
                    callbackID: SnoozeModal.callbackID, user: ServerHarness.alice, privateMetadata: metadata,
                    values: Self.values("2h", "known scanner"))
                #expect(submitted.status == 200)
            }
            #expect(await h.settled())
            #expect(h.simulator.replies(to: ts).filter { $0.text.contains("snoozed this alert until") }.count == 1)
            #expect(try await h.store.auditEntries(after: 0, limit: 100).filter { $0.action == "alert.snoozed" }.count == 1)
            #expect(try await h.store.dueTimers(now: .distantFuture, limit: 10).filter { $0.kind == .snoozeExpiry }.count == 1)
        }
    }

    @Test func unsnoozeAfterTheSnoozeRanOutChangesNothing() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            try await snooze(h, alertID: alertID, ts: ts, duration: "1h")
            #expect(await eventually { try await h.store.alert(id: alertID)?.snooze != nil })
            h.clock.advance(by: 3_601)
            #expect(try await h.server.scheduler.fireDue() >= 1)
            #expect(await eventually { try await h.store.alert(id: alertID)?.snooze == nil })
            #expect(await h.settled())
            let replies = h.simulator.replies(to: ts).count
            let audit = try await h.store.auditEntries(after: 0, limit: 100).count

            let command = try await h.client.command("unsnooze \(alertID)", user: ServerHarness.bob)
            #expect(command.json?["text"]?.stringValue?.contains("not snoozed") == true)
            // The Unsnooze button of a message not yet redrawn.
            _ = try await h.client.click("unsnooze", value: alertID, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.settled())
            #expect(h.simulator.replies(to: ts).count == replies)
            #expect(try await h.store.auditEntries(after: 0, limit: 100).count == audit)
            #expect(try await h.store.alert(id: alertID)?.status == .open)
        }
    }

    @Test func aSnoozeWaitingThroughARestartEndsOnTimeWithItsCount() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-snooze-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = ManualClock(Date())
        let playbook = ServerHarness.testPlaybooks[0]
        func detection(_ id: String) throws -> Detection {
            try Detection.decodeWebhook(Array(ServerHarness.detection(id: id).encoded().utf8))
        }
        // First life: an alert, snoozed for 2 h, and one quiet detection; then the process goes away.
        do {
            let store = try SQLiteAlertStore(path: path)
            _ = try await store.engine.ingest(
                try detection("evt-1"), playbook: playbook, channel: ServerHarness.channel, newAlertID: "A-SNZRST1", now: clock.now())
            try await store.engine.apply(
                .snoozeRequested(SnoozeRequest(userID: ServerHarness.alice, mayAct: true, duration: 7_200, reason: "scanner")), to: "A-SNZRST1",
                now: clock.now())
            let quiet = try await store.engine.ingest(
                try detection("evt-2"), playbook: playbook, channel: ServerHarness.channel, newAlertID: "A-SNZRST2",
                now: clock.now().addingTimeInterval(60))
            #expect(quiet.status == .grouped)
        }
        // Second life: the snooze is still a timer row, not due early, and at its end it says what came.
        let store = try SQLiteAlertStore(path: path)
        #expect(try await store.alert(id: "A-SNZRST1")?.snoozed(at: clock.now()) != nil)
        #expect(try await store.dueTimers(now: clock.now().addingTimeInterval(3_600), limit: 10).filter { $0.kind == .snoozeExpiry }.isEmpty)
        clock.advance(by: 7_201)
        let due = try await store.dueTimers(now: clock.now(), limit: 10).filter { $0.kind == .snoozeExpiry }
        #expect(due.count == 1)
        for timer in due { _ = try await store.engine.fire(timer, now: clock.now()) }
        #expect(try await store.alert(id: "A-SNZRST1")?.snooze == nil)
        let said = try await store.outbox(alertID: "A-SNZRST1").map { "\($0.effect)" }.joined(separator: "\n")
        #expect(said.contains("1 detection arrived while it was on"), "\(said)")
    }
}
