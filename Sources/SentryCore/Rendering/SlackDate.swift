import Foundation

/// Slack's date formatting: each reader sees the time in their own time zone, with a UTC fallback.
public enum SlackDate {
    public static func format(_ date: Date, style: String = "{date_short_pretty} {time}") -> String {
        let epoch = Int(date.timeIntervalSince1970.rounded(.down))
        return "<!date^\(epoch)^\(style)|\(fallback(date))>"
    }

    /// What clients that cannot render the token show: the time in UTC to the minute.
    static func fallback(_ date: Date) -> String { Timestamp.utcMinute(date) }
}
