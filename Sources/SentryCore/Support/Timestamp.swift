import Foundation

/// Time parsing and formatting shared by decoders and renderers.
public enum Timestamp {
    /// The longest time text read; longer ones are not times.
    static let maxLength = 40

    /// RFC 3339 / ISO 8601 with or without fractional seconds.
    public static func parseISO8601(_ text: String) -> Date? {
        // Read by hand: every uplink status and webhook carries one, and a formatter per call (ICU) was most of
        // an uplink replay's time. Anything the hand reader does not take goes to Foundation.
        if let date = parseRFC3339(text.utf8) { return date }
        // ICU traps (SIGFPE) on a fraction of 35 digits or more, which fuzzing an engine's time found; the hand
        // reader takes every RFC 3339 time up to 40 bytes, so longer texts never reach Foundation.
        guard text.utf8.count <= maxLength else { return nil }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, strictly; nil for anything else (including impossible dates).
    static func parseRFC3339(_ text: String.UTF8View) -> Date? {
        var bytes = Array(text)
        if bytes.count < 20 || bytes.count > maxLength { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<(start + count) {
                let byte = bytes[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54 || bytes[10] == 0x74, bytes[13] == 0x3A, bytes[16] == 0x3A,
            let year = digits(0, 4), let month = digits(5, 2), let day = digits(8, 2), let hour = digits(11, 2),
            let minute = digits(14, 2), let second = digits(17, 2),
            (1...12).contains(month), day >= 1, hour <= 23, minute <= 59, second <= 59
        else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= monthDays[month - 1] else { return nil }
        var index = 19
        var fraction = 0.0
        if bytes[index] == 0x2E {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                fraction += Double(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        switch bytes[index] {
        case 0x5A, 0x7A:
            guard index + 1 == bytes.count else { return nil }
        case 0x2B, 0x2D:
            guard index + 6 == bytes.count, bytes[index + 3] == 0x3A, let hours = digits(index + 1, 2), let minutes = digits(index + 4, 2),
                hours <= 23, minutes <= 59
            else { return nil }
            offset = (hours * 3_600 + minutes * 60) * (bytes[index] == 0x2B ? 1 : -1)
        default:
            return nil
        }
        bytes.removeAll()
        // Days from 1970-01-01 in the proleptic Gregorian calendar (the civil-from-days inverse).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
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
