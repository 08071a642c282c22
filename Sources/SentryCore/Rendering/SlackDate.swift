import Foundation

/// Slack's date formatting: each reader sees the time in their own time zone, with a UTC fallback.
public enum SlackDate {
    public static func format(_ date: Date, style: String = "{date_short_pretty} {time}") -> String {
        let epoch = Int(date.timeIntervalSince1970.rounded(.down))
        return "<!date^\(epoch)^\(style)|\(fallback(date))>"
    }

    static func fallback(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}
