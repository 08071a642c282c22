import Foundation
import SentryCore
import Testing

/// `JSONValue.encoded()` is written by hand for speed; it must stay byte for byte what Foundation writes, because
/// encoded values are stored and compared (outbox rows, coalescing) across versions.
@Suite struct CoreJSONValueTests {
    static func foundation(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let strings: [String] = [
        "", "plain", "quote \" backslash \\ slash / done", "line\nbreak\r\ttab\u{08}bs\u{0C}ff", "\u{00}\u{01}\u{1F}\u{7F}",
        "Jürgen 🔥 日本語", "<@U123> & <!date^1700000000^{date}|x>", "\u{2028}\u{2029}", "e\u{301}", "`code` *bold*",
    ]

    static let numbers: [Double] = [
        0, -0.0, 1, -1, 42, 1.5, -2.25, 0.1, 1e-7, 123456.789, 9_007_199_254_740_991, 9_007_199_254_740_992, 1e20, -3.4e38,
        2.5e-300, 1_700_000_000.123456,
    ]

    @Test func scalarsMatchFoundation() throws {
        for text in Self.strings {
            #expect(JSONValue.string(text).encoded() == (try Self.foundation(.string(text))), "\(text.debugDescription)")
        }
        for number in Self.numbers {
            let theirs = try Self.foundation(.number(number))
            #expect(JSONValue.number(number).encoded() == theirs, "\(number): \(JSONValue.number(number).encoded()) vs \(theirs)")
        }
        for value: JSONValue in [.null, true, false] {
            #expect(value.encoded() == (try Self.foundation(value)))
        }
    }

    @Test func nestedDocumentsMatchFoundationWithKeysSorted() throws {
        var generator = SystemRandomNumberGenerator()
        func random(depth: Int) -> JSONValue {
            switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &generator))
            case 2: return .number(Self.numbers.randomElement(using: &generator)!)
            case 3: return .string(Self.strings.randomElement(using: &generator)!)
            case 4: return .array((0..<Int.random(in: 0..<4, using: &generator)).map { _ in random(depth: depth + 1) })
            default:
                let keys = ["b", "a", "B", "A", "_x", "10", "9", "é", "e", "z1", "Z", "aa", "a b", ""]
                var object: [String: JSONValue] = [:]
                for _ in 0..<Int.random(in: 0..<6, using: &generator) { object[keys.randomElement(using: &generator)!] = random(depth: depth + 1) }
                return .object(object)
            }
        }
        for _ in 0..<300 {
            let value = random(depth: 0)
            let mine = value.encoded()
            let theirs = try Self.foundation(value)
            #expect(mine == theirs, "\(mine) vs \(theirs)")
            #expect(JSONValue.parse(Array(mine.utf8)) == value)
        }
    }

    @Test func aNumberThatIsNotFiniteIsNullNotALostDocument() {
        #expect(JSONValue.array([.number(.nan), .number(.infinity), 1]).encoded() == "[null,null,1]")
    }
}
