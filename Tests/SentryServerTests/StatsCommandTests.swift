import Foundation
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

private typealias S = StatsFixtures

/// `/sentry stats [7d|30d]` end to end: a seeded store, the signed slash command through the server, the answer
/// as Slack gets it.
@Suite struct StatsCommandTests {
    func withSeededServer(_ body: (ServerHarness) async throws -> Void) async throws {
        let store = try SQLiteAlertStore.inMemory()
        try await S.seed(store, S.alerts())
        let harness = try await ServerHarness(store: store, clock: ManualClock(S.now))
        do { try await body(harness) } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    @Test func respondersGetTheNumbersOfTheWeekOrTheMonth() async throws {
        try await withSeededServer { h in
            let week = try await h.client.command("stats", user: ServerHarness.alice)
            #expect(week.status == 200)
            let json = try #require(week.json)
            #expect(json["response_type"] == "ephemeral")
            let text = try #require(json["text"]?.stringValue)
            #expect(text.contains("Sentry — last 7 days"))
            #expect(text.contains("6 alerts"))
            #expect(text.contains("• `failed-logins` 4\n• `downloads` 2"))
            #expect(text.contains("*Time to acknowledge* median 5m · p90 20m (5 alerts)"))
            #expect(text.contains("*Time to resolve* median 2h · p90 1d (3 alerts)"))
            #expect(text.contains("placed 2 · approved 2 · rejected 1 · rolled back 1"))
            #expect(text.contains("• 203.0.113.7 4"))
            #expect(BlockKitCheck.messageProblem(text: text, blocks: json["blocks"]) == nil)
            #expect(json["blocks"]?.arrayValue?.first?["type"] == "header")

            // 30 days take in the alert of 8 days ago; `7d` is the default.
            let month = try await h.client.command("stats 30d", user: ServerHarness.alice)
            let monthText = try #require(month.json?["text"]?.stringValue)
            #expect(monthText.contains("Sentry — last 30 days") && monthText.contains("7 alerts"))
            #expect(monthText.contains("• `downloads` 3"))
            #expect(try await h.client.command("stats 7d", user: ServerHarness.bob).json?["text"]?.stringValue == text)
        }
    }

    @Test func othersAndUnknownPeriodsAreTurnedAway() async throws {
        try await withSeededServer { h in
            let refused = try await h.client.command("stats", user: "U0MALLORY")
            #expect(refused.json?["text"]?.stringValue == "Sorry, only responders can see the numbers.")
            #expect(refused.json?["blocks"] == nil)
            for wrong in ["stats 14d", "stats 7d extra", "stats week"] {
                let answer = try await h.client.command(wrong, user: ServerHarness.alice)
                #expect(answer.json?["text"]?.stringValue?.hasPrefix("Usage: `/sentry stats [7d|30d]`") == true)
            }
            let help = try await h.client.command("help", user: ServerHarness.alice)
            #expect(help.json?["text"]?.stringValue?.contains("`/sentry stats [7d|30d]`") == true)
        }
    }
}
