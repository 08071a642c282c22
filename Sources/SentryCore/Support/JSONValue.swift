import Foundation

/// Any JSON value: detection evidence, Block Kit documents, Slack payload fragments.
public enum JSONValue: Codable, Equatable, Sendable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if let integer = Self.exactInteger(value) { try container.encode(integer) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Integers stay integers on the wire (Slack rejects `1.0` where it wants an int in places).
    static func exactInteger(_ value: Double) -> Int64? {
        value.rounded() == value && abs(value) < 9_007_199_254_740_992 ? Int64(value) : nil
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// Parses JSON bytes (UTF-8, RFC 8259, a leading byte-order mark skipped); nil when they are not JSON,
    /// nest deeper than 512, or hold a number too large for a Double (one too small to tell from zero reads
    /// as 0). Written by hand: every webhook and Slack callback is parsed here, and `JSONDecoder` spent most of
    /// a click's time trying each case of this enum in turn. Like `JSONDecoder` it tolerates a trailing comma
    /// and keeps the first of duplicate keys; unlike it, it accepts `0e2` (valid JSON) and refuses UTF-16 and
    /// NUL-terminated bodies and a bad value under a duplicate key. A test compares the two.
    public static func parse(_ bytes: some Collection<UInt8>) -> JSONValue? {
        var array = Array(bytes)
        if array.starts(with: [0xEF, 0xBB, 0xBF]) { array.removeFirst(3) }
        return array.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            return parser.document()
        }
    }

    /// Compact JSON with sorted keys: stable, so it can be hashed and compared. Written by hand (every Slack
    /// answer and outbox row goes through here); byte for byte what `JSONEncoder` with `.sortedKeys` and
    /// `.withoutEscapingSlashes` writes, which a test checks. A number that is not finite is written `null`.
    public func encoded() -> String {
        String(decoding: encodedBytes(), as: UTF8.self)
    }

    /// `encoded()` as UTF-8 bytes, for a body that goes out as bytes (no String made and copied again).
    public func encodedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(into: &out)
        return out
    }

    /// Appends what `encoded()` returns to `out`.
    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value):
            if value.isFinite { Self.writeFiniteNumber(value, into: &out) } else { out.append(contentsOf: "null".utf8) }
        case .string(let value): Self.writeString(value, into: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            // By UTF-8 bytes, not `String.<`, which orders some keys that are not in NFC inconsistently (`e\u{301}`
            // and `\u{e9}=` compare neither way), so the order followed the dictionary's. Same order for NFC keys.
            for (index, key) in object.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                object[key]!.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// An integer as one, anything else in Swift's shortest form, as Foundation writes it (an integral value
    /// without ".0").
    static func writeFiniteNumber(_ value: some BinaryFloatingPoint & LosslessStringConvertible, into out: inout [UInt8]) {
        if let integer = exactInteger(Double(value)) {
            out.append(contentsOf: String(integer).utf8)
        } else {
            var text = value.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            out.append(contentsOf: text.utf8)
        }
    }

    static func writeString(_ text: String, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { writeString(utf8: $0, into: &out) }
    }

    /// Copies each run of bytes that needs no escape in one append (most strings are one run).
    private static func writeString(utf8 bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var run = 0
        var index = 0
        while index < bytes.count {
            // Eight bytes at a time past text that needs no escape (an answer's text is mostly that).
            if index + 8 <= bytes.count {
                let clear = JSONBytes.unescapedPrefix(bytes, at: index)
                index += clear
                if clear == 8 { continue }
            }
            let byte = bytes[index]
            index += 1
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            let at = index - 1
            if at > run { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<at])) }
            run = index
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            default:
                out.append(contentsOf: "u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        if bytes.count > run { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<bytes.count])) }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

/// A recursive-descent JSON reader over UTF-8 bytes, for `JSONValue.parse`.
struct JSONParser {
    static let maxDepth = 512
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    mutating func document() -> JSONValue? {
        skipWhitespace()
        guard let value = value() else { return nil }
        skipWhitespace()
        // `Optional.none`, spelled out: in a ternary with `value`, `nil` was read as the `JSONValue` literal `.null`.
        guard index == bytes.count else { return Optional.none }
        return value
    }

    private mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    private mutating func value() -> JSONValue? {
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return nil
        }
    }

    private mutating func literal(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return nil }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return nil }
        index += count
        return value
    }

    private mutating func object() -> JSONValue? {
        var object: [String: JSONValue] = [:]
        let closed = elements(closedBy: UInt8(ascii: "}")) { parser in
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\""), let key = parser.string() else {
                return false
            }
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: ":") else { return false }
            parser.index += 1
            parser.skipWhitespace()
            guard let value = parser.value() else { return false }
            // The first of duplicate keys wins, as with JSONDecoder.
            if object[key] == nil { object[key] = value }
            return true
        }
        return closed ? .object(object) : nil
    }

    private mutating func array() -> JSONValue? {
        var array: [JSONValue] = []
        let closed = elements(closedBy: UInt8(ascii: "]")) { parser in
            guard let value = parser.value() else { return false }
            array.append(value)
            return true
        }
        return closed ? .array(array) : nil
    }

    /// At `[` or `{`: elements separated by commas up to `close`, each read by `element`; a trailing comma is
    /// tolerated, as JSONDecoder tolerates it. False when the container is malformed or nests too deep.
    private mutating func elements(closedBy close: UInt8, _ element: (inout JSONParser) -> Bool) -> Bool {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { return false }
        index += 1
        skipWhitespace()
        while true {
            // Empty, or after a trailing comma.
            if index < bytes.count, bytes[index] == close {
                index += 1
                return true
            }
            guard element(&self) else { return false }
            skipWhitespace()
            guard index < bytes.count else { return false }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                continue
            }
            guard bytes[index] == close else { return false }
            index += 1
            return true
        }
    }

    /// At an opening quote; the decoded text, or nil for a bad escape, a raw control character or bad UTF-8.
    private mutating func string() -> String? {
        index += 1
        let start = index
        // Fast path: no escapes before the closing quote.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                return String(validating: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { return nil }
            index += 1
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(validating: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < bytes.count else { return nil }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape() else { return nil }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default: return nil
                }
            default:
                if byte < 0x20 { return nil }
                out.append(byte)
                index += 1
            }
        }
        return nil
    }

    /// After `\u`: one scalar, reading a second `\uXXXX` for a surrogate pair; nil for a lone surrogate.
    private mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let first = hex4() else { return nil }
        switch first {
        case 0xD800...0xDBFF:
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return nil }
            index += 2
            guard let second = hex4(), (0xDC00...0xDFFF).contains(second) else { return nil }
            return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
        case 0xDC00...0xDFFF:
            return nil
        default:
            return Unicode.Scalar(first)
        }
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Crypto.nibble(bytes[index]) else { return nil }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`, as a finite Double.
    private mutating func number() -> JSONValue? {
        guard let (value, end) = Self.number(in: bytes, at: index) else { return nil }
        index = end
        return .number(value)
    }

    /// The JSON number starting at `start` and the index just after it; nil when none is there or it is not a
    /// finite Double. Shared by the readers that scan JSON without building a tree.
    static func number(in bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> (value: Double, end: Int)? {
        var index = start
        func digits() -> Int {
            let from = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - from
        }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            guard digits() > 0 else { return nil }
        }
        let fraction = index < bytes.count && bytes[index] == UInt8(ascii: ".")
        if fraction {
            index += 1
            guard digits() > 0 else { return nil }
        }
        let exponent = index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E"))
        if exponent {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return nil }
        }
        // Plain integers of up to 15 digits (every time stamp and count) are exact in a Double: no text to parse.
        let digitCount = index - start - (bytes[start] == UInt8(ascii: "-") ? 1 : 0)
        if !fraction, !exponent, digitCount <= 15 {
            var value = 0
            for byte in bytes[(index - digitCount)..<index] { value = value * 10 + Int(byte - UInt8(ascii: "0")) }
            return (bytes[start] == UInt8(ascii: "-") ? -Double(value) : Double(value), index)
        }
        guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self),
            let value = Double(text), value.isFinite
        else { return nil }
        return (value, index)
    }
}
