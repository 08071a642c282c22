import Foundation

/// Time parsing and formatting shared by decoders and renderers.
public enum Timestamp {
    /// RFC 3339 / ISO 8601 with or without fractional seconds.
    public static func parseISO8601(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// `2026-11-22T09:00:00Z`; by hand, because a formatter per call is slow and formatters are not Sendable.
    public static func iso8601(_ date: Date) -> String {
        let p = utcParts(date)
        return "\(p.year)-\(p.month)-\(p.day)T\(p.hour):\(p.minute):\(p.second)Z"
    }

    /// `2026-11-22 09:00 UTC`, the fallback text of Slack date tokens; by hand for the same reasons.
    public static func utcMinute(_ date: Date) -> String {
        let p = utcParts(date)
        return "\(p.year)-\(p.month)-\(p.day) \(p.hour):\(p.minute) UTC"
    }

    /// The UTC calendar fields of `date`, zero-padded as ISO 8601 writes them; proleptic Gregorian, so
    /// exact for the years 1583–9999 that alerts live in (before 1582, Foundation's formatters switch to
    /// the Julian calendar). Seconds are rounded down, like the epoch in a Slack date token.
    static func utcParts(_ date: Date) -> (year: String, month: String, day: String, hour: String, minute: String, second: String) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let year = parts.tm_year + 1900
        let yearText = year >= 0 && year < 1000 ? String(repeating: "0", count: 4 - String(year).count) + String(year) : String(year)
        return (yearText, two(parts.tm_mon + 1), two(parts.tm_mday), two(parts.tm_hour), two(parts.tm_min), two(parts.tm_sec))
    }
}

/// Durations written the way responders write them: `90s`, `15m`, `4h`, `7d`.
public enum DurationText {
    public static func parse(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = trimmed.last, let number = Int(trimmed.dropLast()), number > 0 else { return nil }
        let multiplier: Int
        switch unit {
        case "s": multiplier = 1
        case "m": multiplier = 60
        case "h": multiplier = 3_600
        case "d": multiplier = 86_400
        default: return nil
        }
        let (seconds, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : seconds
    }

    /// The shortest exact spelling: 5400 → `90m`, 86400 → `1d`.
    public static func format(_ seconds: Int) -> String {
        if seconds > 0, seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds > 0, seconds % 3_600 == 0 { return "\(seconds / 3_600)h" }
        if seconds > 0, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
