import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

private typealias S = StatsFixtures

/// The numbers of `/sentry stats` and the digest over a seeded week, and their rendering.
@Suite struct AlertStatsTests {
    @Test func countsPerPlaybookAndNoisiestOfTheWeek() {
        let stats = S.week()
        #expect(stats.total == 6)
        #expect(stats.perPlaybook == [.init(name: "failed-logins", count: 4), .init(name: "downloads", count: 2)])
        #expect(stats.noisiestDetections == [.init(name: "slack.failed_logins_by_ip", count: 4), .init(name: "slack.mass_download", count: 2)])
        #expect(stats.noisiestSubjects == [.init(name: "203.0.113.7", count: 4), .init(name: "<@U024BE7LH>", count: 2)])
    }

    @Test func medianAndP90OfAcknowledgeAndResolve() {
        let stats = S.week()
        // Acknowledged after 60, 120, 300, 600, 1200 s: median the 3rd, p90 the 5th (nearest rank).
        #expect(stats.timeToAcknowledge == .init(median: 300, p90: 1_200, samples: 5))
        // Resolved after 3600, 7200, 86400 s; the dismissed one is no resolution.
        #expect(stats.timeToResolve == .init(median: 7_200, p90: 86_400, samples: 3))
        let empty = AlertStats(rows: [], from: S.now.addingTimeInterval(-86_400), to: S.now, calendar: S.utc)
        #expect(empty.timeToAcknowledge == .init(median: nil, p90: nil, samples: 0))
        #expect(empty.lastSevenDays == [0, 0, 0, 0, 0, 0, 0])
    }

    @Test func containmentOutcomes() {
        let stats = S.week()
        #expect(stats.containmentsPlaced == 2)
        #expect(stats.containmentsApproved == 2)
        #expect(stats.containmentsRejected == 1)
        #expect(stats.containmentsRolledBack == 1)
    }

    @Test func sparkLineCountsCalendarDaysEndingToday() {
        let stats = S.week()
        // Days in UTC ending Monday 30 Nov (now 09:00): A-1 today, A-2 Sunday, A-3/A-4 Saturday, A-5 Thursday, A-6 Tuesday.
        #expect(stats.lastSevenDays == [1, 0, 1, 0, 2, 1, 1])
        #expect(AlertStats.sparkLine([0, 1, 0, 1, 0, 2, 1]) == "▁▄▁▄▁▇▄")
        #expect(AlertStats.sparkLine([0, 0]) == "▁▁")
        #expect(AlertStats.sparkLine([1, 2, 3, 5, 7]) == "▂▃▄▅▇")
    }

    @Test func periodsAndDurations() {
        #expect(StatsMessage.days(nil) == 7)
        #expect(StatsMessage.days("7d") == 7)
        #expect(StatsMessage.days("30D") == 30)
        #expect(StatsMessage.days("14d") == nil)
        #expect(StatsMessage.days("week") == nil)
        #expect(StatsMessage.duration(45) == "45s")
        #expect(StatsMessage.duration(600) == "10m")
        #expect(StatsMessage.duration(7_200) == "2h")
        #expect(StatsMessage.duration(12_000) == "3h 20m")
        #expect(StatsMessage.duration(187_200) == "2d 4h")
    }

    @Test func renderingStaysWithinSlackLimitsAndEscapesNames() {
        var rows = S.alerts().map(AlertStatsRow.init)
        for index in 0..<40 {
            var row = rows[0]
            row.playbookID = "playbook-\(index)-<!channel>"
            row.detection = String(repeating: "d", count: 300) + "\(index)"
            row.subjectLabel = AlertStats.label(Subject(account: "<@U999> \(index)"))
            rows.append(row)
        }
        let stats = AlertStats(rows: rows, from: S.now.addingTimeInterval(-7 * 86_400), to: S.now, calendar: S.utc)
        let rendered = StatsMessage.render(stats, title: "Sentry — last 7 days")
        #expect(BlockKitCheck.messageProblem(text: rendered.text, blocks: rendered.blocks) == nil)
        #expect(!rendered.text.contains("<!channel>") && !rendered.text.contains("<@U999>"))
        #expect(rendered.text.contains("<@U024BE7LH>"))
        #expect(rendered.text.contains("…and 32 more playbooks"))
    }
}
