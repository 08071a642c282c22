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

    /// The writer steps over eight bytes at a time: an escape at every offset from a word boundary, in strings of
    /// every length around one and two words, comes out as Foundation writes it.
    @Test func escapesAtEveryOffsetMatchFoundation() throws {
        for length in 0..<26 {
            for position in 0..<max(length, 1) {
                for special in ["\"", "\\", "\n", "\u{01}", "\u{1F}", "é", "🔥", "\u{7F}"] {
                    var characters = Array(repeating: "a", count: length)
                    if length > 0 { characters[position] = special }
                    let text = characters.joined()
                    #expect(JSONValue.string(text).encoded() == (try Self.foundation(.string(text))), "\(text.debugDescription)")
                }
            }
        }
    }

    static func randomValue(depth: Int, using generator: inout SystemRandomNumberGenerator) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .number(numbers.randomElement(using: &generator)!)
        case 3: return .string(strings.randomElement(using: &generator)!)
        case 4: return .array((0..<Int.random(in: 0..<4, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
        default:
            let keys = ["b", "a", "B", "A", "_x", "10", "9", "é", "e", "z1", "Z", "aa", "a b", "", "q\"uote"]
            var object: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0..<6, using: &generator) {
                object[keys.randomElement(using: &generator)!] = randomValue(depth: depth + 1, using: &generator)
            }
            return .object(object)
        }
    }

    @Test func nestedDocumentsMatchFoundationWithKeysSorted() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let value = Self.randomValue(depth: 0, using: &generator)
            let mine = value.encoded()
            let theirs = try Self.foundation(value)
            #expect(mine == theirs, "\(mine) vs \(theirs)")
            #expect(JSONValue.parse(Array(mine.utf8)) == value)
        }
    }

    static func decoded(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    static let inputs: [String] = [
        // valid
        "{}", "[]", " { \"a\" : [ 1 , 2.5 , -0.0 , 1e3 , 1E-2 , 12.5e+1 ] } ", "\"x\"", "0", "-1", "true", "false", "null",
        #"{"a":"\u00e9\u20AC\ud83d\ude00\/\b\f\n\r\t\\\""}"#, #"{"a":1,"a":2}"#, "[[[[[]]]]]", "\t[\r\n]", #""é""#,
        #"{"nested":{"list":[{"k":null}],"s":""}}"#, "123456789012345678901234567890", "1.7976931348623157e308",
        // invalid
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, "01", "1.", ".5", "-", "+1", "1e", "1e+", "--1", #""\x""#, "\"\u{01}\"",
        #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, #""\u12""#, "tru", "nul", "falsey", "[1 2]", "{1:2}", #"{"a" 1}"#,
        #""a" "b""#, "[", "[1", #"{"a":"#, "\"unterminated", "1e400", "-1e400", "NaN", "Infinity", "[01]", "{\"a\":tru}", "[,]", "{,}", "[1,,2]",
        #"{"a":1,,}"#, "[1,]]", " [1 , ] ", #"{"a":[1,],}"#,
    ]

    @Test func parseAgreesWithJSONDecoderOnValidAndInvalidInput() {
        for input in Self.inputs {
            let bytes = Array(input.utf8)
            #expect(JSONValue.parse(bytes) == Self.decoded(bytes), "\(input.debugDescription)")
        }
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x5B, 0x22, 0xE2, 0x82, 0x22, 0x5D], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(JSONValue.parse(bytes) == nil && Self.decoded(bytes) == nil, "\(bytes)")
        }
        // Where the two differ, on purpose: a byte-order mark is skipped; `0e2` is valid JSON (JSONDecoder refuses it).
        #expect(JSONValue.parse([0xEF, 0xBB, 0xBF] + Array("{\"a\":1}".utf8)) == ["a": 1])
        #expect(JSONValue.parse(Array("0e2".utf8)) == .number(0))
        #expect(JSONValue.parse(Array("1e-400".utf8)) == .number(0))
        // Deep nesting is refused, not a stack overflow.
        #expect(JSONValue.parse(Array((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)) == nil)
        #expect(JSONValue.parse(Array((String(repeating: "[", count: 500) + String(repeating: "]", count: 500)).utf8)) != nil)
    }

    @Test func integersReadWithoutTextAreTheNumbersTheTextSays() {
        var generator = SystemRandomNumberGenerator()
        var texts = ["0", "-0", "7", "-7", "999999999999999", "-999999999999999", "1000000000000000", "9007199254740993", "12345678901234567890"]
        for digits in 1...18 {
            let text = String((0..<digits).map { index in Character(String(Int.random(in: (index == 0 ? 1 : 0)...9, using: &generator))) })
            texts += [text, "-" + text]
        }
        for text in texts {
            guard case .number(let value)? = JSONValue.parse(Array(text.utf8)) else {
                Issue.record("\(text) did not parse")
                continue
            }
            #expect(value == Double(text)! && value.sign == Double(text)!.sign, "\(text)")
        }
    }

    @Test func parseReadsBackWhatEncodedWrote() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let value = Self.randomValue(depth: 0, using: &generator)
            let text = value.encoded()
            #expect(JSONValue.parse(Array(text.utf8)) == value)
            #expect(JSONValue.parse(Array(text.utf8)) == Self.decoded(Array(text.utf8)))
            let spaced = text.replacingOccurrences(of: ",", with: " ,\n ").replacingOccurrences(of: ":", with: " : ")
            #expect(JSONValue.parse(Array(spaced.utf8)) == Self.decoded(Array(spaced.utf8)), "\(spaced)")
        }
    }

    /// Found by the `json` fuzz target (its input inlined): keys `e\u{301}` and `\u{e9}=` compare neither way with
    /// `String.<`, so the sorted order, and the text, followed the dictionary's layout.
    @Test func encodedKeyOrderDoesNotDependOnTheDictionary() throws {
        let crash = #"{"b":{"a":[]},"a":{},"dup":1,"dup":2,"e\#u{301}":1,"\#u{e9}=":2}"#
        let value = try #require(JSONValue.parse(Array(crash.utf8)))
        let expected = #"{"a":{},"b":{"a":[]},"dup":1,"e\#u{301}":1,"\#u{e9}=":2}"#
        #expect(Array(value.encoded().utf8) == Array(expected.utf8))
        let object = try #require(value.objectValue)
        for capacity in 0..<64 {
            var copy = [String: JSONValue](minimumCapacity: capacity)
            for key in object.keys.shuffled() { copy[key] = object[key] }
            #expect(Array(JSONValue.object(copy).encoded().utf8) == Array(expected.utf8), "capacity \(capacity)")
        }
    }

    @Test func aNumberThatIsNotFiniteIsNullNotALostDocument() {
        #expect(JSONValue.array([.number(.nan), .number(.infinity), 1]).encoded() == "[null,null,1]")
    }
}
