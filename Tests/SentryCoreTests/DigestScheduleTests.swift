import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

private typealias S = StatsFixtures

/// `SENTRY_DIGEST` parsing, the next due time in a zone, the week key and the timer kind.
@Suite struct DigestScheduleTests {
    @Test func parsesOnlyAWeekdayAndA24HourTime() {
        #expect(DigestSchedule(parsing: "mon 09:00") == DigestSchedule(weekday: 2, hour: 9, minute: 0))
        #expect(DigestSchedule(parsing: "sun 23:59") == DigestSchedule(weekday: 1, hour: 23, minute: 59))
        #expect(DigestSchedule(parsing: "sat 00:00") == DigestSchedule(weekday: 7, hour: 0, minute: 0))
        for bad in [
            "", "mon", "09:00", "monday 09:00", "Mon 09:00", "mon 9:00", "mon 09:0", "mon 24:00", "mon 09:60", "mon  09:00", "mon 09:00 ",
            "mon 09h00", "mon 09:00:00", "xyz 09:00", "mon -9:00", "mon ０9:00",
        ] {
            #expect(DigestSchedule(parsing: bad) == nil, "\(bad)")
        }
        #expect(DigestSchedule(parsing: "fri 17:30")?.text == "fri 17:30")
        #expect(DigestSchedule(parsing: "mon 09:05")?.text == "mon 09:05")
    }

    @Test func nextDueTimeIsStrictlyLaterInTheServersZone() throws {
        let monday = try #require(DigestSchedule(parsing: "mon 09:00"))
        // S.now is Monday 2026-11-30 09:00 UTC: the next one is a week later, a second before it is S.now.
        #expect(monday.next(after: S.now, calendar: S.utc) == S.now.addingTimeInterval(7 * 86_400))
        #expect(monday.next(after: S.now.addingTimeInterval(-1), calendar: S.utc) == S.now)
        let friday = try #require(DigestSchedule(parsing: "fri 17:30"))
        #expect(friday.next(after: S.now, calendar: S.utc) == S.now.addingTimeInterval(4 * 86_400 + 8.5 * 3_600))
        // In Paris (UTC+1 in winter) Monday 09:00 is 08:00 UTC: an hour before S.now, so next week's.
        var paris = Calendar(identifier: .gregorian)
        paris.timeZone = try #require(TimeZone(identifier: "Europe/Paris"))
        #expect(monday.next(after: S.now, calendar: paris) == S.now.addingTimeInterval(7 * 86_400 - 3_600))
    }

    @Test func weekKeyAndTimerKindRoundTrip() throws {
        #expect(WeeklyDigest.week(of: S.now, calendar: S.utc) == "2026-W49")
        #expect(WeeklyDigest.week(of: S.now.addingTimeInterval(-86_400), calendar: S.utc) == "2026-W48")
        #expect(WeeklyDigest.idempotencyKey(week: "2026-W49") == "digest:2026-W49")
        let schedule = try #require(DigestSchedule(parsing: "mon 09:00"))
        let kind = WeeklyDigest.timerKind(schedule, channel: "C0SECALERTS")
        #expect(kind.rawValue == "digest:C0SECALERTS mon 09:00")
        #expect(TimerKind(rawValue: kind.rawValue) == kind)
        let settings = try #require(WeeklyDigest.settings(of: kind))
        #expect(settings.schedule == schedule && settings.channel == "C0SECALERTS")
        #expect(WeeklyDigest.settings(of: .weeklyDigest("C0SECALERTS monday")) == nil)
        #expect(WeeklyDigest.settings(of: .ackTimeout) == nil)
        #expect(TimerKind(rawValue: "digest:") == nil)
    }
}
