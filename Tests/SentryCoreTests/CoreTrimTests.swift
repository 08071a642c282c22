import Foundation
import SentryCore
import Testing

/// `trimmedOfWhitespace` takes a fast path when there is nothing to trim; it must always agree with Foundation.
@Suite struct CoreTrimTests {
    static let ends = [
        "", "a", " ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{2003}", "\u{2028}", "\u{3000}", "é", "e\u{301}", "🔥",
        "\u{200B}", "x y",
    ]

    @Test func agreesWithFoundationWhateverTheEnds() {
        for head in Self.ends {
            for tail in Self.ends {
                for middle in ["", "10.0.0.1", " mid dle ", "\u{A0}"] {
                    let text = head + middle + tail
                    #expect(text.trimmedOfWhitespace == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text.debugDescription)")
                }
            }
        }
    }
}
