import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// The App Home tab end to end: opening it publishes the right page for the right person.
@Suite struct HomeTabTests {
    func open(_ h: ServerHarness, user: String, tab: String = "home") async throws {
        let body =
            #"{"type":"event_callback","event_id":"Ev0HOME\#(user)\#(tab)","event":{"type":"app_home_opened","user":"\#(user)","channel":"D0HOME","tab":"\#(tab)"}}"#
        let answer = try await h.client.slack("/slack/events", form: body, contentType: "application/json")
        #expect(answer.status == 200)
    }

    @Test func aResponderSeesTheOpenAlertsAndAVisitorSeesWhoAnswers() async throws {
        try await withHarness { h in
            let (alertID, _) = try await h.postedAlert()
            try await open(h, user: ServerHarness.alice)
            #expect(await h.simulator.waitUntil { $0.homes[ServerHarness.alice] != nil })
            let page = try #require(h.simulator.homes[ServerHarness.alice]).encoded()
            #expect(page.contains(alertID))
            #expect(page.contains("Open alerts (1)"))
            #expect(page.contains("1 in the last 24 h"))

            try await open(h, user: "U0MALLORY")
            #expect(await h.simulator.waitUntil { $0.homes["U0MALLORY"] != nil })
            let visitor = try #require(h.simulator.homes["U0MALLORY"]).encoded()
            #expect(!visitor.contains(alertID))
            #expect(visitor.contains("Responders:"))

            // The Messages tab publishes nothing.
            let before = h.simulator.homePublishes
            try await open(h, user: ServerHarness.bob, tab: "messages")
            #expect(await h.settled())
            #expect(h.simulator.homePublishes == before)
        }
    }

    @Test func anOpenedTabIsPublishedAgainPacedAfterAChange() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            try await open(h, user: ServerHarness.alice)
            #expect(await h.simulator.waitUntil { $0.homes[ServerHarness.alice] != nil })
            #expect(try #require(h.simulator.homes[ServerHarness.alice]).encoded().contains("not acknowledged"))
            let before = h.simulator.homePublishes
            // Three changes in a row: one refresh for all of them, once the pace has passed, and none before.
            for _ in 0..<3 {
                _ = try await h.client.click(
                    "ack", value: alertID, user: ServerHarness.alice, responseURL: "\(h.slackURL)/response/x", channel: ServerHarness.channel,
                    messageTS: ts)
            }
            #expect(await h.settled())
            #expect(h.simulator.homePublishes == before)
            h.clock.advance(by: 30)
            #expect(await h.simulator.waitUntil { $0.homePublishes == before + 1 })
            #expect(try #require(h.simulator.homes[ServerHarness.alice]).encoded().contains("held by <@\(ServerHarness.alice)>"))
            // Nothing changed since: the next round publishes nothing.
            h.clock.advance(by: 30)
            #expect(await h.settled())
            #expect(h.simulator.homePublishes == before + 1)
        }
    }

    @Test func aBlockStaysOnTheTabWithItsUnblockButtonAfterItsAlertIsResolved() async throws {
        try await withHarness { h in
            let (alertID, ts) = try await h.postedAlert()
            let containment = try await ServerContainmentFlowTests().requestBlock(h, alertID: alertID, ts: ts)
            _ = try await h.client.click("approve", value: containment, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await h.store.alert(id: alertID)?.containments.first?.status == .active })
            _ = try await h.client.click("resolve", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await h.store.alert(id: alertID)?.status == .resolved })
            #expect(await h.settled())

            try await open(h, user: ServerHarness.alice)
            #expect(await h.simulator.waitUntil { $0.homes[ServerHarness.alice] != nil })
            let page = try #require(h.simulator.homes[ServerHarness.alice]).encoded()
            #expect(page.contains("Open alerts (0)"))
            #expect(page.contains("Active containments (1)"))
            #expect(page.contains("alert `\(alertID)` (resolved)"))
            #expect(page.contains("\"action_id\":\"unblock\"") && page.contains("\"value\":\"\(containment)\""))
        }
    }

    @Test func theRunnerSaysWhenAnEffectHasRunSoTheTabsAreRefreshed() async throws {
        let simulator = SlackSimulator(token: ServerHarness.botToken)
        let slackApp = try await RunningApplication.start { simulator.application(onRunning: $0) }
        defer { Task { await slackApp.stop() } }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let store = InMemoryAlertStore()
        let clock = ManualClock(Date())
        let ran = Locked(0)
        let runner = ServerRestartTests().runner(
            store, slackURL: "http://127.0.0.1:\(slackApp.port)", clock: clock, transport: transport, onEffectDone: { ran.withLock { $0 += 1 } })
        #expect(try await runner.drainOnce() == 0)
        #expect(ran.current == 0)
        let detection = try Detection.decodeWebhook(Array(ServerHarness.detection(id: "evt-home").encoded().utf8))
        _ = try await store.engine.ingest(
            detection, playbook: ServerHarness.testPlaybooks[0], channel: ServerHarness.channel, newAlertID: "A-HOMEFX1", now: clock.now())
        #expect(try await runner.drainOnce() == 1)
        #expect(ran.current == 1)
        #expect(try await store.alert(id: "A-HOMEFX1")?.message != nil)
    }

    @Test func theVisitorsPageNamesThePlaybooksOwnRespondersToo() async throws {
        var playbooks = ServerHarness.testPlaybooks
        playbooks[1] = Playbook(
            id: "downloads", title: "Downloads", detection: "slack.max_daily_download", severity: .medium, responders: ["U0DLOWNER"])
        try await withHarness(playbooks: playbooks) { h in
            try await open(h, user: "U0MALLORY")
            #expect(await h.simulator.waitUntil { $0.homes["U0MALLORY"] != nil })
            let visitor = try #require(h.simulator.homes["U0MALLORY"]).encoded()
            #expect(visitor.contains("<@U0DLOWNER>"))
            #expect(visitor.contains("<@\(ServerHarness.alice)>"))
        }
    }
}
