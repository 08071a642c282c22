import Foundation
import SentryCore
import SentryServer
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
}
