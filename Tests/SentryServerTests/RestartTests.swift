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

@Suite struct ServerRestartTests {
    static let playbook = ServerHarness.testPlaybooks[0]

    func temporaryDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sentry-test-\(UUID().uuidString).db").path
    }

    func runner(
        _ store: any AlertStore, slackURL: String, clock: any SentryClock, transport: CurlTransport,
        onEffectDone: @escaping @Sendable () -> Void = {}
    ) -> EffectRunner {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let slack = SlackClient(transport: transport, baseURL: slackURL + "/api", token: ServerHarness.botToken, sleep: { _ in }, logger: logger)
        return EffectRunner(store: store, slack: slack, clock: clock, logger: logger, onEffectDone: onEffectDone)
    }

    func detection(_ id: String) throws -> Detection {
        try Detection.decodeWebhook(Array(ServerHarness.detection(id: id).encoded().utf8))
    }

    @Test func stateSurvivesAndPendingEffectsResumeExactlyOnce() async throws {
        let path = temporaryDatabase()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let simulator = SlackSimulator(token: ServerHarness.botToken)
        let slackApp = try await RunningApplication.start { simulator.application(onRunning: $0) }
        defer { Task { await slackApp.stop() } }
        let slackURL = "http://127.0.0.1:\(slackApp.port)"
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let clock = ManualClock(Date())

        // First life: the detection is stored, then the process stops before any effect runs.
        do {
            let store = try SQLiteAlertStore(path: path)
            let result = try await store.engine.ingest(
                try detection("evt-1"), playbook: Self.playbook, channel: ServerHarness.channel, newAlertID: "A-RESTART1", now: clock.now())
            #expect(result.status == .created)
        }
        // Second life: a new store and runner on the same file.
        let store = try SQLiteAlertStore(path: path)
        #expect(try await store.alert(id: "A-RESTART1")?.status == .open)
        #expect(try await store.outboxDepth() == 1)
        let runner = runner(store, slackURL: slackURL, clock: clock, transport: transport)
        #expect(try await runner.drainOnce() == 1)
        #expect(try await runner.drainOnce() == 0)
        #expect(simulator.topLevelMessages().count == 1)
        #expect(try await store.alert(id: "A-RESTART1")?.message?.ts == simulator.topLevelMessages().first?.ts)
        // The acknowledgement timer survived as a row too.
        clock.advance(by: 901)
        #expect(try await store.dueTimers(now: clock.now(), limit: 10).map(\.alertID) == ["A-RESTART1"])
    }

    @Test func aPostWhoseAnswerWasLostIsNotPostedTwice() async throws {
        let path = temporaryDatabase()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let simulator = SlackSimulator(token: ServerHarness.botToken)
        let slackApp = try await RunningApplication.start { simulator.application(onRunning: $0) }
        defer { Task { await slackApp.stop() } }
        let slackURL = "http://127.0.0.1:\(slackApp.port)"
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let clock = ManualClock(Date())

        do {
            let store = try SQLiteAlertStore(path: path)
            _ = try await store.engine.ingest(
                try detection("evt-1"), playbook: Self.playbook, channel: ServerHarness.channel, newAlertID: "A-LOSTANSW", now: clock.now())
            // Slack posts the message but the answer never arrives (as if the process died right after sending).
            simulator.inject([.lostAnswer], for: "chat.postMessage")
            #expect(try await runner(store, slackURL: slackURL, clock: clock, transport: transport).drainOnce() == 0)
            #expect(simulator.topLevelMessages().count == 1)
            #expect(try await store.alert(id: "A-LOSTANSW")?.message == nil)
        }
        clock.advance(by: 600)
        let store = try SQLiteAlertStore(path: path)
        #expect(try await runner(store, slackURL: slackURL, clock: clock, transport: transport).drainOnce() == 1)
        #expect(simulator.topLevelMessages().count == 1)
        #expect(try await store.alert(id: "A-LOSTANSW")?.message?.ts == simulator.topLevelMessages().first?.ts)
        #expect(simulator.requests.filter { $0.method == "chat.postMessage" }.count == 1)
    }

    @Test func updatesWaitForThePostAndCoalesce() async throws {
        let simulator = SlackSimulator(token: ServerHarness.botToken)
        let slackApp = try await RunningApplication.start { simulator.application(onRunning: $0) }
        defer { Task { await slackApp.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let clock = ManualClock(Date())
        let store = try SQLiteAlertStore.inMemory()
        _ = try await store.engine.ingest(
            try detection("evt-1"), playbook: Self.playbook, channel: ServerHarness.channel, newAlertID: "A-COALESCE", now: clock.now())
        for index in 2...6 {
            let result = try await store.engine.ingest(
                try detection("evt-\(index)"), playbook: Self.playbook, channel: ServerHarness.channel, newAlertID: "A-UNUSED\(index)0",
                now: clock.now())
            #expect(result.status == .grouped)
        }
        // One post and one (coalesced) update are pending.
        #expect(try await store.outboxDepth() == 2)
        let runner = runner(store, slackURL: "http://127.0.0.1:\(slackApp.port)", clock: clock, transport: transport)
        while try await runner.drainOnce() > 0 {}
        #expect(simulator.topLevelMessages().count == 1)
        #expect(simulator.requests.filter { $0.method == "chat.update" }.count <= 1)
        #expect(simulator.topLevelMessages().first.map { Transcript.text($0.blocks).contains("6 times") } == true)
    }
}
