import Foundation
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

private typealias S = StatsFixtures

/// `SENTRY_DIGEST` at start-up and the digest through the server: the timer row set when it starts, the
/// scheduler firing it once, the post in the alert channel of the Slack fake, next week's row.
@Suite struct DigestServerTests {
    @Test func aBadValueIsOneClearStartUpLine() throws {
        let base = ["SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_ALERT_CHANNEL": "C0123456789"]
        for bad in ["monday 9am", "mon 9:00", "Mon 09:00", "mon 25:00"] {
            var environment = base
            environment["SENTRY_DIGEST"] = bad
            guard case .failure(let problems) = ServerConfiguration.load(environment: environment) else {
                Issue.record("SENTRY_DIGEST=\(bad) was accepted")
                continue
            }
            #expect(problems.lines == ["\(DigestSchedule.problem), got '\(bad)'"])
        }
        var good = base
        good["SENTRY_DIGEST"] = "mon 09:00"
        #expect(try ServerConfiguration.load(environment: good).get().digest == DigestSchedule(weekday: 2, hour: 9, minute: 0))
        #expect(try ServerConfiguration.load(environment: base).get().digest == nil)
    }

    @Test func theServerPostsTheDigestOnceAWeekToTheAlertChannel() async throws {
        let store = try SQLiteAlertStore.inMemory()
        try await S.seed(store, S.alerts())
        let start = S.now.addingTimeInterval(-3_600)
        let h = try await ServerHarness(environment: ["SENTRY_DIGEST": "mon 09:00"], store: store, clock: ManualClock(start))
        do {
            let schedule = try #require(DigestSchedule(parsing: "mon 09:00"))
            let kind = WeeklyDigest.timerKind(schedule, channel: ServerHarness.channel)
            // The server's zone decides when Monday 09:00 is.
            let due = schedule.next(after: start)
            #expect(await eventually { try await store.timers(alertID: WeeklyDigest.timerAlertID).map(\.dueAt) == [due] })
            #expect(try await store.timers(alertID: WeeklyDigest.timerAlertID).map(\.kind) == [kind])

            h.clock.advance(by: due.timeIntervalSince(start))
            #expect(try await h.server.scheduler.fireDue() == 1)
            #expect(
                await h.simulator.waitUntil { slack in
                    slack.topLevelMessages(channel: ServerHarness.channel).contains { $0.text.contains("Sentry weekly digest") }
                })
            let post = try #require(h.simulator.topLevelMessages(channel: ServerHarness.channel).first { $0.text.contains("weekly digest") })
            #expect(post.text.contains(WeeklyDigest.week(of: due)))
            #expect(post.text.contains("*Alerts per playbook*"))
            #expect(try await store.timers(alertID: WeeklyDigest.timerAlertID).map(\.dueAt) == [schedule.next(after: due)])
            // Nothing more is due this week, and a restart of the scheduling keeps next week's row.
            #expect(try await h.server.scheduler.fireDue() == 0)
            await h.server.scheduleDigest()
            #expect(try await store.timers(alertID: WeeklyDigest.timerAlertID).map(\.dueAt) == [schedule.next(after: due)])
            #expect(await h.settled())
            #expect(h.simulator.topLevelMessages(channel: ServerHarness.channel).filter { $0.text.contains("weekly digest") }.count == 1)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }
}
