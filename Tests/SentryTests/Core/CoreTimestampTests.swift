import Foundation
@testable import SentryCore
import Testing

/// The hand-written UTC formats, against Foundation's formatters.
@Suite struct CoreTimestampTests {
    static let dates: [Date] = [
        0, 951_782_400, 1_700_000_000, 1_795_000_000.999, 1_735_689_599, 4_102_444_800, 86_399, -1,
    ].map { Date(timeIntervalSince1970: $0) }

    @Test func slackDateFallbackMatchesADateFormatter() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        for date in Self.dates {
            #expect(SlackDate.fallback(date) == formatter.string(from: date), "\(date.timeIntervalSince1970)")
        }
        #expect(SlackDate.format(Date(timeIntervalSince1970: 1_700_000_000)) == "<!date^1700000000^{date_short_pretty} {time}|2023-11-14 22:13 UTC>")
    }

    @Test func iso8601MatchesFoundation() {
        let formatter = ISO8601DateFormatter()
        for date in Self.dates {
            #expect(Timestamp.iso8601(date) == formatter.string(from: date), "\(date.timeIntervalSince1970)")
        }
    }
}
