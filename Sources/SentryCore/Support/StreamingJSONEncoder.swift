import Foundation

/// Codable values to compact JSON bytes in one pass, for the stores' hot writes (an alert's body on every
/// transition). Foundation's `JSONEncoder` builds a tree of boxed values and then serialises it; this writes each
/// value where it goes. Dates are seconds since 1970 (the stores' `.secondsSince1970`), numbers and strings are
/// written as `JSONValue.encoded()` writes them, keys keep the order `encode(to:)` gives them, and `JSONDecoder`
/// reads the result back to the same value (a test checks every stored type against `JSONEncoder`'s reading).
/// A non-finite number throws, as `JSONEncoder` does by default.
public enum StreamingJSONEncoder {
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let sink = JSONSink()
        try sink.writeValue(value, level: 0, path: CodingPath(parent: [], last: nil))
        sink.settle(level: 0)
        return sink.bytes
    }
}

/// The bytes written so far and the containers still open. A container is closed when its parent writes its next
/// element (or at the end): `encode(to:)` fills a child before it goes on, so nothing later ever writes into one
/// that was left.
final class JSONSink {
    var bytes: [UInt8] = []
    /// The closing byte of each open container, outermost first; a container's level is its position plus one.
    private var closers: [UInt8] = []
    private var hasElement: [Bool] = []
    /// A key written for a super encoder that has not written its value yet (`{}` if it never does).
    private var keyAwaitingValue = false

    init() {
        bytes.reserveCapacity(1024)
    }

    /// Closes every container deeper than `level`.
    func settle(level: Int) {
        if keyAwaitingValue {
            bytes.append(contentsOf: "{}".utf8)
            keyAwaitingValue = false
        }
        while closers.count > level {
            bytes.append(closers.removeLast())
            hasElement.removeLast()
        }
    }

    /// Opens a container at `level + 1` and returns that level.
    func open(_ opener: UInt8, _ closer: UInt8, at level: Int) -> Int {
        settle(level: level)
        bytes.append(opener)
        closers.append(closer)
        hasElement.append(false)
        return closers.count
    }

    /// Starts the next element of the container at `level`: closes what its last element left open, then a comma.
    func startElement(in level: Int) {
        settle(level: level)
        if hasElement[level - 1] { bytes.append(UInt8(ascii: ",")) } else { hasElement[level - 1] = true }
    }

    func startMember(_ key: some CodingKey, in level: Int) {
        startElement(in: level)
        JSONValue.writeString(key.stringValue, into: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    func awaitValue() { keyAwaitingValue = true }

    func writeNull() {
        keyAwaitingValue = false
        bytes.append(contentsOf: "null".utf8)
    }

    func writeBool(_ value: Bool) {
        keyAwaitingValue = false
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    func writeString(_ value: String) {
        keyAwaitingValue = false
        JSONValue.writeString(value, into: &bytes)
    }

    func writeInteger(_ value: some BinaryInteger) {
        keyAwaitingValue = false
        bytes.append(contentsOf: String(value).utf8)
    }

    func writeDouble(_ value: some BinaryFloatingPoint & LosslessStringConvertible, path: CodingPath) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, EncodingError.Context(codingPath: path.keys, debugDescription: "\(value) is not a JSON number"))
        }
        keyAwaitingValue = false
        JSONValue.writeFiniteNumber(value, into: &bytes)
    }

    /// Any value: the scalars and dates directly, anything else through its `encode(to:)` (and `{}` if that wrote
    /// nothing, as `JSONEncoder` writes).
    func writeValue<T: Encodable>(_ value: T, level: Int, path: CodingPath) throws {
        if T.self == String.self {
            writeString(value as! String)
        } else if T.self == Date.self {
            try writeDouble((value as! Date).timeIntervalSince1970, path: path)
        } else if T.self == Int.self {
            writeInteger(value as! Int)
        } else if T.self == Bool.self {
            writeBool(value as! Bool)
        } else if T.self == Double.self {
            try writeDouble(value as! Double, path: path)
        } else {
            let start = bytes.count
            try value.encode(to: StreamingEncoder(sink: self, level: level, path: path))
            if bytes.count == start {
                keyAwaitingValue = false
                bytes.append(contentsOf: "{}".utf8)
            }
        }
    }
}

/// The `Encoder` handed to a value's `encode(to:)`: its value goes at the sink's current position, inside the
/// container at `level`.
private struct StreamingEncoder: Encoder {
    let sink: JSONSink
    let level: Int
    let path: CodingPath
    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// The container this encoder opened, so a second request for one (as some `encode(to:)` make) returns it.
    private let opened = OpenedContainer()

    init(sink: JSONSink, level: Int, path: CodingPath) {
        self.sink = sink
        self.level = level
        self.path = path
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(StreamingKeyedContainer<Key>(sink: sink, level: containerLevel("{", "}"), codingPath: path.keys))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        StreamingUnkeyedContainer(sink: sink, level: containerLevel("[", "]"), codingPath: path.keys)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        StreamingSingleValueContainer(sink: sink, level: level, path: path)
    }

    private func containerLevel(_ opener: Character, _ closer: Character) -> Int {
        if let level = opened.level { return level }
        let level = sink.open(opener.asciiValue!, closer.asciiValue!, at: level)
        opened.level = level
        return level
    }
}

private final class OpenedContainer {
    var level: Int?
}

private struct StreamingKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let sink: JSONSink
    let level: Int
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws {
        sink.startMember(key, in: level)
        sink.writeNull()
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        sink.startMember(key, in: level)
        sink.writeBool(value)
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        sink.startMember(key, in: level)
        sink.writeString(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        sink.startMember(key, in: level)
        try sink.writeDouble(value, path: CodingPath(parent: codingPath, last: key))
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        sink.startMember(key, in: level)
        try sink.writeDouble(value, path: CodingPath(parent: codingPath, last: key))
    }

    // Every integer type spelled out: the protocols' defaults send them to the generic `encode`, whose
    // `encode(to:)` comes back here.
    mutating func encode(_ value: Int, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try member(key) { $0.writeInteger(value) } }

    private func member(_ key: Key, _ write: (JSONSink) throws -> Void) rethrows {
        sink.startMember(key, in: level)
        try write(sink)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        sink.startMember(key, in: level)
        try sink.writeValue(value, level: level, path: CodingPath(parent: codingPath, last: key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        sink.startMember(key, in: level)
        let nested = sink.open(UInt8(ascii: "{"), UInt8(ascii: "}"), at: level)
        return KeyedEncodingContainer(StreamingKeyedContainer<NestedKey>(sink: sink, level: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        sink.startMember(key, in: level)
        let nested = sink.open(UInt8(ascii: "["), UInt8(ascii: "]"), at: level)
        return StreamingUnkeyedContainer(sink: sink, level: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(forKey: Key(stringValue: "super")!)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        sink.startMember(key, in: level)
        sink.awaitValue()
        return StreamingEncoder(sink: sink, level: level, path: CodingPath(parent: codingPath, last: key))
    }
}

private struct StreamingUnkeyedContainer: UnkeyedEncodingContainer {
    let sink: JSONSink
    let level: Int
    let codingPath: [any CodingKey]
    private(set) var count = 0

    init(sink: JSONSink, level: Int, codingPath: [any CodingKey]) {
        self.sink = sink
        self.level = level
        self.codingPath = codingPath
    }

    private var nextPath: CodingPath { CodingPath(parent: codingPath, last: IndexKey(intValue: count)) }

    mutating func encodeNil() throws {
        sink.startElement(in: level)
        sink.writeNull()
        count += 1
    }

    mutating func encode(_ value: String) throws { try element { $0.writeString(value) } }
    mutating func encode(_ value: Bool) throws { try element { $0.writeBool(value) } }
    mutating func encode(_ value: Double) throws { try element { [path = nextPath] in try $0.writeDouble(value, path: path) } }
    mutating func encode(_ value: Float) throws { try element { [path = nextPath] in try $0.writeDouble(value, path: path) } }
    mutating func encode(_ value: Int) throws { try element { $0.writeInteger(value) } }
    mutating func encode(_ value: Int8) throws { try element { $0.writeInteger(value) } }
    mutating func encode(_ value: Int16) throws { try element { $0.writeInteger(value) } }
    mutating func encode(_ value: Int32) throws { try element { $0.writeInteger(value) } }
    mutating func encode(_ value: Int64) throws { try element { $0.writeInteger(value) } }
    mutating func encode(_ value: UInt) throws { try element { $0.writeInteger(value) } }
    mutating func encode(_ value: UInt8) throws { try element { $0.writeInteger(value) } }
    mutating func encode(_ value: UInt16) throws { try element { $0.writeInteger(value) } }
    mutating func encode(_ value: UInt32) throws { try element { $0.writeInteger(value) } }
    mutating func encode(_ value: UInt64) throws { try element { $0.writeInteger(value) } }

    private mutating func element(_ write: (JSONSink) throws -> Void) rethrows {
        sink.startElement(in: level)
        try write(sink)
        count += 1
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        sink.startElement(in: level)
        try sink.writeValue(value, level: level, path: nextPath)
        count += 1
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        sink.startElement(in: level)
        let path = nextPath.keys
        count += 1
        let nested = sink.open(UInt8(ascii: "{"), UInt8(ascii: "}"), at: level)
        return KeyedEncodingContainer(StreamingKeyedContainer<NestedKey>(sink: sink, level: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        sink.startElement(in: level)
        let path = nextPath.keys
        count += 1
        let nested = sink.open(UInt8(ascii: "["), UInt8(ascii: "]"), at: level)
        return StreamingUnkeyedContainer(sink: sink, level: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        sink.startElement(in: level)
        sink.awaitValue()
        let path = nextPath
        count += 1
        return StreamingEncoder(sink: sink, level: level, path: path)
    }
}

private struct StreamingSingleValueContainer: SingleValueEncodingContainer {
    let sink: JSONSink
    let level: Int
    let path: CodingPath
    var codingPath: [any CodingKey] { path.keys }

    mutating func encodeNil() throws { sink.writeNull() }
    mutating func encode(_ value: Bool) throws { sink.writeBool(value) }
    mutating func encode(_ value: String) throws { sink.writeString(value) }
    mutating func encode(_ value: Double) throws { try sink.writeDouble(value, path: path) }
    mutating func encode(_ value: Float) throws { try sink.writeDouble(value, path: path) }
    mutating func encode(_ value: Int) throws { sink.writeInteger(value) }
    mutating func encode(_ value: Int8) throws { sink.writeInteger(value) }
    mutating func encode(_ value: Int16) throws { sink.writeInteger(value) }
    mutating func encode(_ value: Int32) throws { sink.writeInteger(value) }
    mutating func encode(_ value: Int64) throws { sink.writeInteger(value) }
    mutating func encode(_ value: UInt) throws { sink.writeInteger(value) }
    mutating func encode(_ value: UInt8) throws { sink.writeInteger(value) }
    mutating func encode(_ value: UInt16) throws { sink.writeInteger(value) }
    mutating func encode(_ value: UInt32) throws { sink.writeInteger(value) }
    mutating func encode(_ value: UInt64) throws { sink.writeInteger(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try sink.writeValue(value, level: level, path: path)
    }
}

/// A value's coding path, made into an array only when asked for (an error, or a container opened for it): most
/// values are scalars, and appending each one's key cost an allocation.
struct CodingPath {
    let parent: [any CodingKey]
    let last: (any CodingKey)?

    var keys: [any CodingKey] { last.map { parent + [$0] } ?? parent }
}

private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }
    init(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
}
