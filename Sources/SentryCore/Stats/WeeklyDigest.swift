import Foundation

/// `SENTRY_DIGEST`: the weekday and time of the weekly digest, in the server's zone (`mon 09:00`).
public struct DigestSchedule: Equatable, Hashable, Sendable {
    static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// 1 = Sunday … 7 = Saturday, as `Calendar` counts.
    public var weekday: Int
    public var hour: Int
    public var minute: Int

    public init(weekday: Int, hour: Int, minute: Int) {
        self.weekday = weekday
        self.hour = hour
        self.minute = minute
    }

    /// Exactly a three-letter weekday in lower case, one space and a 24-hour `HH:MM`; nil for anything else.
    public init?(parsing text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, let day = Self.weekdays.firstIndex(of: String(parts[0])) else { return nil }
        let time = Array(parts[1].utf8)
        guard time.count == 5, time[2] == UInt8(ascii: ":"), time.enumerated().allSatisfy({ $0.offset == 2 || (48...57).contains($0.element) })
        else { return nil }
        let hour = Int(time[0] - 48) * 10 + Int(time[1] - 48)
        let minute = Int(time[3] - 48) * 10 + Int(time[4] - 48)
        guard hour < 24, minute < 60 else { return nil }
        self.init(weekday: day + 1, hour: hour, minute: minute)
    }

    public static let problem = "SENTRY_DIGEST must be a weekday and a 24-hour time in the server's zone, like 'mon 09:00'"

    /// `mon 09:00`.
    public var text: String { "\(Self.weekdays[weekday - 1]) \(hour < 10 ? "0" : "")\(hour):\(minute < 10 ? "0" : "")\(minute)" }

    /// The first time strictly after `date` (a time a clock change skips moves to the next existing one).
    public func next(after date: Date, calendar: Calendar = .current) -> Date {
        let wanted = DateComponents(hour: hour, minute: minute, weekday: weekday)
        return calendar.nextDate(after: date, matching: wanted, matchingPolicy: .nextTime, direction: .forward)
            ?? date.addingTimeInterval(7 * 86_400)
    }
}

/// The weekly digest: a timer row that is not tied to an alert, the post's text, and the key that posts it once.
public enum WeeklyDigest {
    /// Timers are keyed by alert: the digest's row uses this fixed pseudo id (no alert ever has it: alert ids are `A-…`).
    public static let timerAlertID = "digest"

    /// The timer kind for a schedule and channel: both travel in the row, so the timer fires with what it was set with.
    public static func timerKind(_ schedule: DigestSchedule, channel: String) -> TimerKind {
        .weeklyDigest("\(channel) \(schedule.text)")
    }

    /// The schedule and channel of a digest timer; nil for another kind or an unreadable one.
    public static func settings(of kind: TimerKind) -> (schedule: DigestSchedule, channel: String)? {
        guard case .weeklyDigest(let payload) = kind, let space = payload.firstIndex(of: " ") else { return nil }
        let channel = String(payload[..<space])
        guard let schedule = DigestSchedule(parsing: String(payload[payload.index(after: space)...])), !channel.isEmpty else { return nil }
        return (schedule, channel)
    }

    /// The ISO week a digest is for (`2026-W49`): the outbox idempotency key of its post is `digest:` and this.
    public static func week(of date: Date, calendar: Calendar = .current) -> String {
        var iso = Calendar(identifier: .iso8601)
        iso.timeZone = calendar.timeZone
        let parts = iso.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
        let week = parts.weekOfYear ?? 0
        return "\(parts.yearForWeekOfYear ?? 0)-W\(week < 10 ? "0" : "")\(week)"
    }

    public static func idempotencyKey(week: String) -> String { "digest:\(week)" }

    /// The post: the numbers of the 7 days before `end` as Block Kit, with the same in mrkdwn as its text.
    public static func message(_ stats: AlertStats, week: String) -> (text: String, blocks: JSONValue) {
        StatsMessage.render(stats, title: ":bar_chart: Sentry weekly digest, \(week)")
    }
}
