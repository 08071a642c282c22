import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryEngine
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// Asking the affected user end to end: the server, the effect runner and the Slack simulator on loopback.
@Suite struct ConfirmFlowTests {
    static let carol = "U0CAROL"
    static let playbook = Playbook(
        id: "downloads", title: "Maximum daily downloads exceeded", detection: "slack.max_daily_download", severity: .high,
        ackTimeout: 3_600, escalation: Escalation(mention: ["S0ONCALL"]), confirmWithSubject: ConfirmSettings(timeout: 1_800))
    static let playbooks = [ServerHarness.testPlaybooks[0], playbook]

    static func detection(id: String = "dl-1", user: String = carol) -> JSONValue {
        [
            "id": .string(id), "detection": "slack.max_daily_download", "title": .string("\(user) downloaded 212 files today"),
            "subject": ["slack_user_id": .string(user)], "evidence": ["count": 212],
        ]
    }

    /// Creates the alert and waits until its question is in the user's DMs and the thread says so.
    func asked(_ h: ServerHarness, user: String = carol) async throws -> (alertID: String, ts: String, dm: SlackSimulator.Message) {
        let answer = try await h.client.detection(Self.detection(user: user), secret: ServerHarness.webhookSecret)
        #expect(answer.status == 202)
        let alertID = try #require(answer.json?["alert_id"]?.stringValue)
        #expect(await h.simulator.waitUntil { !$0.directMessages(to: user).isEmpty })
        #expect(await h.simulator.waitUntil { $0.topLevelMessages(channel: ServerHarness.channel).count == 1 })
        let ts = try #require(h.simulator.topLevelMessages(channel: ServerHarness.channel).first?.ts)
        #expect(await h.simulator.waitUntil { $0.replies(to: ts).contains { $0.text.contains("in a direct message") } })
        #expect(await eventually { try await h.store.alert(id: alertID)?.confirmation?.state == .asked })
        return (alertID, ts, try #require(h.simulator.directMessages(to: user).first))
    }

    func press(_ h: ServerHarness, _ answer: ConfirmAnswer, alertID: String, user: String = carol, dm: SlackSimulator.Message) async throws {
        let reply = try await h.client.click(
            answer.rawValue, value: alertID, user: user, responseURL: h.responseURL, channel: dm.channel, messageTS: dm.ts)
        #expect(reply.status == 200)
    }

    func responded(_ h: ServerHarness, _ text: String) async -> Bool {
        await h.simulator.waitUntil { $0.responses.contains { $0["text"]?.stringValue?.contains(text) == true } }
    }

    @Test func theUserIsAskedAndTheirNoRaisesTheAlertOnlyOnce() async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            let (alertID, ts, dm) = try await asked(h)
            // The question went where Slack's API says: a DM opened for the user, then a post into it.
            let open = try #require(h.simulator.requests.first { $0.method == "conversations.open" })
            #expect(open.body?["users"] == .string(Self.carol))
            #expect(h.simulator.requests.contains { $0.method == "users.info" && $0.query["user"] == Self.carol })
            #expect(dm.channel == h.simulator.directMessageChannel(of: Self.carol))
            #expect(dm.text == "We saw 212 file downloads from your account today. Was this you?")
            let buttons = dm.blocks?.encoded() ?? ""
            #expect(buttons.contains("\"action_id\":\"confirm_yes\"") && buttons.contains("\"action_id\":\"confirm_no\""))
            let shown = Transcript.text(h.simulator.topLevelMessages(channel: ServerHarness.channel).first?.blocks)
            #expect(shown.contains("Asked <@\(Self.carol)>"))

            // A responder pressing the subject's button is refused; nothing changes.
            try await press(h, .no, alertID: alertID, user: ServerHarness.alice, dm: dm)
            #expect(await responded(h, "only <@\(Self.carol)> can answer"))
            #expect(try await h.store.alert(id: alertID)?.confirmation?.state == .asked)
            #expect(try await h.store.alert(id: alertID)?.severity == .high)

            try await press(h, .no, alertID: alertID, dm: dm)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).contains { $0.text.contains("confirmed malicious by the user") } })
            let reply = try #require(h.simulator.replies(to: ts).first { $0.text.contains("confirmed malicious") })
            // SLACK_RESPONDERS are mentioned (the playbook names none of its own).
            #expect(reply.text.contains("<@\(ServerHarness.alice)>") && reply.text.contains("<@\(ServerHarness.bob)>"))
            let alert = try #require(try await h.store.alert(id: alertID))
            #expect(alert.severity == .critical && alert.status == .open && alert.confirmation?.state == .denied)
            #expect(await h.simulator.waitUntil { !($0.directMessages(to: Self.carol).first?.blocks?.encoded() ?? "").contains("confirm_no") })
            #expect(
                await h.simulator.waitUntil {
                    Transcript.text($0.topLevelMessages(channel: ServerHarness.channel).first?.blocks).contains("Confirmed malicious by the user")
                })

            // A double click and a change of mind are one answer.
            try await press(h, .no, alertID: alertID, dm: dm)
            try await press(h, .yes, alertID: alertID, dm: dm)
            #expect(await responded(h, "You already answered"))
            #expect(await h.settled())
            #expect(h.simulator.replies(to: ts).filter { $0.text.contains("answered *") }.count == 1)
            #expect(try await h.store.alert(id: alertID)?.confirmation?.state == .denied)
            #expect(h.simulator.directMessages(to: Self.carol).count == 1)
            let audit = try await h.store.auditEntries(after: 0, limit: 100).map(\.action)
            #expect(audit.filter { $0 == "confirm.no" }.count == 1)
            #expect(audit.contains("confirm.asked") && audit.contains("confirm.refused"))
            // Every method the question used is one the manifest asks a scope for (im:write for conversations.open).
            let called = Set(h.simulator.requests.map(\.method).filter { $0 != "response_url" })
            #expect(called.isSuperset(of: ["users.info", "conversations.open", "chat.postMessage", "chat.update"]))
            #expect(called.isSubset(of: Set(SlackManifest.methodScopes.keys)), "\(called)")
            #expect(SlackManifest.methodScopes["conversations.open"] == ["im:write"])
        }
    }

    @Test func yesIsShownAndClosesNothing() async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            let (alertID, ts, dm) = try await asked(h)
            try await press(h, .yes, alertID: alertID, dm: dm)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).contains { $0.text.contains("answered *Yes, it was me*") } })
            let alert = try #require(try await h.store.alert(id: alertID))
            #expect(alert.status == .open && alert.severity == .high && alert.confirmation?.state == .confirmed)
            // The alert's own buttons are still there for the responders.
            let shown = Transcript.text(h.simulator.topLevelMessages(channel: ServerHarness.channel).first?.blocks)
            #expect(shown.contains("\"action_id\":\"ack\""))
        }
    }

    @Test func noAnswerBeforeTheTimeoutEscalatesAndALatePressChangesNothing() async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            let (alertID, ts, dm) = try await asked(h)
            h.clock.advance(by: 1_801)
            #expect(try await h.server.scheduler.fireDue() == 1)
            #expect(
                await h.simulator.waitUntil {
                    $0.replies(to: ts).contains { $0.text.contains("<!subteam^S0ONCALL>: <@\(Self.carol)> did not answer") }
                })
            #expect(try await h.store.alert(id: alertID)?.confirmation?.state == .expired)
            try await press(h, .no, alertID: alertID, dm: dm)
            #expect(await responded(h, "This question expired"))
            #expect(try await h.store.alert(id: alertID)?.severity == .high)
            #expect(await h.simulator.waitUntil { ($0.directMessages(to: Self.carol).first?.blocks?.encoded() ?? "").contains("expired") })
        }
    }

    @Test(arguments: [("deactivated", SlackSimulator.Account(deleted: true)), ("a bot", SlackSimulator.Account(isBot: true))])
    func deactivatedAndBotUsersAreNeverAsked(_ word: String, _ account: SlackSimulator.Account) async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            h.simulator.setAccount(Self.carol, account)
            let answer = try await h.client.detection(Self.detection(), secret: ServerHarness.webhookSecret)
            let alertID = try #require(answer.json?["alert_id"]?.stringValue)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages(channel: ServerHarness.channel).count == 1 })
            let ts = try #require(h.simulator.topLevelMessages(channel: ServerHarness.channel).first?.ts)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).contains { $0.text.contains("was not asked") && $0.text.contains(word) } })
            #expect(await h.settled())
            #expect(!h.simulator.requests.contains { $0.method == "conversations.open" })
            #expect(h.simulator.directMessages(to: Self.carol).isEmpty)
            #expect(try await h.store.alert(id: alertID)?.confirmation?.state == .notAsked)
            #expect(try await h.store.dueTimers(now: .distantFuture, limit: 10).allSatisfy { $0.kind != .confirmTimeout })
            #expect(try await h.store.auditEntries(after: 0, limit: 100).contains { $0.action == "confirm.not_asked" })
        }
    }

    @Test func theQuestionsButtonsActOnNothingElse() async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            // An alert about an IP asked nobody: a forged confirm_no naming it changes nothing.
            let (other, _) = try await h.postedAlert()
            _ = try await h.client.click(ConfirmAnswer.no.rawValue, value: other, user: Self.carol, responseURL: h.responseURL)
            #expect(await responded(h, "asked you nothing"))
            _ = try await h.client.click(ConfirmAnswer.yes.rawValue, value: "A-NOSUCH00", user: Self.carol, responseURL: h.responseURL)
            #expect(await responded(h, "no longer matches an alert"))
            let alert = try #require(try await h.store.alert(id: other))
            #expect(alert.severity == .high && alert.status == .open && alert.confirmation == nil)
        }
    }
}

/// A restart while the question waits: the timer and the question live in the store, so a new store and runner on
/// the same file carry on; a question whose post answer was lost is found in the DM, not sent twice.
@Suite struct ConfirmRestartTests {
    func runner(_ store: any AlertStore, slackURL: String, clock: any SentryClock, transport: CurlTransport) -> EffectRunner {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let slack = SlackClient(transport: transport, baseURL: slackURL + "/api", token: ServerHarness.botToken, sleep: { _ in }, logger: logger)
        return EffectRunner(store: store, slack: slack, clock: clock, logger: logger)
    }

    /// Runs the outbox until nothing more is due now.
    func drain(_ runner: EffectRunner) async throws {
        for _ in 0..<20 {
            if try await runner.drainOnce() == 0 { return }
        }
    }

    struct World {
        let path: String
        let simulator: SlackSimulator
        let slackURL: String
        let transport: CurlTransport
        let clock: ManualClock
    }

    func withWorld(_ body: (World) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-confirm-\(UUID().uuidString).db").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let simulator = SlackSimulator(token: ServerHarness.botToken)
        let slackApp = try await RunningApplication.start { simulator.application(onRunning: $0) }
        let transport = CurlTransport()
        do {
            try await body(
                World(
                    path: path, simulator: simulator, slackURL: "http://127.0.0.1:\(slackApp.port)", transport: transport, clock: ManualClock(Date()))
            )
        } catch {
            transport.shutdown()
            await slackApp.stop()
            throw error
        }
        transport.shutdown()
        await slackApp.stop()
    }

    func firstLife(_ w: World) async throws {
        let store = try SQLiteAlertStore(path: w.path)
        let detection = try Detection.decodeWebhook(Array(ConfirmFlowTests.detection().encoded().utf8))
        _ = try await store.engine.ingest(
            detection, playbook: ConfirmFlowTests.playbook, channel: ServerHarness.channel, newAlertID: "A-CONFIRM1", now: w.clock.now())
        try await drain(runner(store, slackURL: w.slackURL, clock: w.clock, transport: w.transport))
        #expect(try await store.alert(id: "A-CONFIRM1")?.confirmation?.state == .asked)
        #expect(w.simulator.directMessages(to: ConfirmFlowTests.carol).count == 1)
    }

    @Test func anAnswerAfterARestartIsStillAccepted() async throws {
        try await withWorld { w in
            try await firstLife(w)
            let store = try SQLiteAlertStore(path: w.path)
            #expect(try await store.outboxDepth() == 0)
            w.clock.advance(by: 600)
            let click = ConfirmClick(answer: .no, userID: ConfirmFlowTests.carol, responders: ["U0ALICE"])
            let transition = try await store.engine.apply(.subjectAnswered(click), to: "A-CONFIRM1", now: w.clock.now())
            #expect(transition.outcome == .applied)
            try await drain(runner(store, slackURL: w.slackURL, clock: w.clock, transport: w.transport))
            #expect(try await store.alert(id: "A-CONFIRM1")?.severity == .critical)
            #expect(w.simulator.messages.contains { $0.threadTS != nil && $0.text.contains("confirmed malicious") })
            #expect(w.simulator.directMessages(to: ConfirmFlowTests.carol).first?.edits == 1)
            // The answer cancelled the timeout: nothing fires later.
            #expect(try await store.dueTimers(now: .distantFuture, limit: 10).allSatisfy { $0.kind != .confirmTimeout })
        }
    }

    @Test func theTimeoutStillFiresAfterARestart() async throws {
        try await withWorld { w in
            try await firstLife(w)
            let store = try SQLiteAlertStore(path: w.path)
            // A second past the due time: the store keeps times to the millisecond.
            w.clock.advance(by: 1_801)
            let due = try await store.dueTimers(now: w.clock.now(), limit: 10).filter { $0.kind == .confirmTimeout }
            #expect(due.map(\.alertID) == ["A-CONFIRM1"])
            let fired = try #require(due.first)
            #expect(try await store.engine.fire(fired, now: w.clock.now()).outcome == .applied)
            #expect(try await store.engine.fire(fired, now: w.clock.now()).outcome != .applied)
            try await drain(runner(store, slackURL: w.slackURL, clock: w.clock, transport: w.transport))
            #expect(try await store.alert(id: "A-CONFIRM1")?.confirmation?.state == .expired)
            #expect(w.simulator.messages.contains { $0.threadTS != nil && $0.text.contains("did not answer") })
        }
    }

    @Test func aQuestionWhoseAnswerWasLostIsNotSentTwice() async throws {
        try await withWorld { w in
            do {
                let store = try SQLiteAlertStore(path: w.path)
                let detection = try Detection.decodeWebhook(Array(ConfirmFlowTests.detection().encoded().utf8))
                _ = try await store.engine.ingest(
                    detection, playbook: ConfirmFlowTests.playbook, channel: ServerHarness.channel, newAlertID: "A-CONFIRM2", now: w.clock.now())
                let runner = runner(store, slackURL: w.slackURL, clock: w.clock, transport: w.transport)
                #expect(try await runner.drainOnce() == 1)  // the alert message
                // Slack takes the question but its answer is lost, as if the process died right after sending.
                w.simulator.inject([.lostAnswer], for: "chat.postMessage")
                _ = try await runner.drainOnce()
                #expect(w.simulator.directMessages(to: ConfirmFlowTests.carol).count == 1)
                #expect(try await store.alert(id: "A-CONFIRM2")?.confirmation?.message == nil)
            }
            let store = try SQLiteAlertStore(path: w.path)
            w.clock.advance(by: 300)
            try await drain(runner(store, slackURL: w.slackURL, clock: w.clock, transport: w.transport))
            #expect(w.simulator.directMessages(to: ConfirmFlowTests.carol).count == 1)
            let ref = try #require(try await store.alert(id: "A-CONFIRM2")?.confirmation?.message)
            #expect(ref.ts == w.simulator.directMessages(to: ConfirmFlowTests.carol).first?.ts)
        }
    }
}
