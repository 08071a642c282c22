import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

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

/// The hand RFC 3339 reader agrees with Foundation's ISO 8601 formatter.
@Suite struct CoreRFC3339Tests {
    @Test func agreesWithFoundationOnRandomInstantsOffsetsAndFractions() throws {
        var rng = SplitMix64(seed: 0x3339)
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for _ in 0..<3_000 {
            let date = Date(timeIntervalSince1970: Double.random(in: -2_000_000_000...8_000_000_000, using: &rng).rounded(.down))
            let formatter = Bool.random(using: &rng) ? plain : fractional
            formatter.timeZone = TimeZone(secondsFromGMT: [0, 3_600, -18_000, 19_800, 45_900].randomElement(using: &rng)!)
            let text = formatter.string(from: date)
            let expected = try #require(formatter.date(from: text))
            let parsed = try #require(Timestamp.parseRFC3339(text.utf8), "\(text)")
            #expect(abs(parsed.timeIntervalSince(expected)) < 0.001, "\(text)")
        }
    }

    @Test(arguments: [
        "2026-11-22T09:00:00Z", "2026-11-22T09:00:00.123456Z", "2026-11-22T10:00:00+01:00", "2024-02-29T23:59:59-05:30",
        "2026-11-22t09:00:00z",
    ])
    func readsWhatMerakiAndEnginesWrite(text: String) throws {
        let parsed = try #require(Timestamp.parseRFC3339(text.utf8))
        let foundation = ISO8601DateFormatter()
        foundation.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        if let expected = foundation.date(from: text) ?? plain.date(from: text) {
            #expect(abs(parsed.timeIntervalSince(expected)) < 0.001)
        }
    }

    @Test(arguments: [
        "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22 09:00:00Z", "2026-11-22T09:00:00",
        "2026-11-22T09:00:00.Z", "2026-11-22T09:00:00+0100", "2026-11-22T09:00:00Zjunk", "", "twenty twenty-six",
    ])
    func refusesWhatIsNotRFC3339(text: String) {
        #expect(Timestamp.parseRFC3339(text.utf8) == nil)
    }
}
