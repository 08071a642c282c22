import Foundation

/// An event's id. ASCII ids of up to 40 bytes (Slack's audit ids have 36) are kept in place rather than in a heap
/// string, so that an event read in a replay allocates, counts references to and frees nothing for its id; any other
/// id is its `String`. Compares and orders exactly as the text does.
public struct EventID: Sendable, Comparable, CustomStringConvertible {
    typealias Words = (UInt64, UInt64, UInt64, UInt64, UInt64)
    static let inlineCapacity = 40

    private enum Storage: Sendable {
        /// The bytes in memory order, zero after `count`: ASCII without NUL, so the padding sorts before any byte.
        case inline(Words, count: UInt8)
        case text(String)
    }

    private let storage: Storage

    public init(_ text: String) {
        var copy = text
        if let inline = copy.withUTF8({ Self(inlineBytes: $0) }) {
            self = inline
        } else {
            storage = .text(text)
        }
    }

    /// Kept in place; nil when the bytes are too many or not ASCII without NUL.
    init?(inlineBytes bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count <= Self.inlineCapacity else { return nil }
        var words: Words = (0, 0, 0, 0, 0)
        let fits = withUnsafeMutableBytes(of: &words) { raw in
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte != 0, byte < 0x80 else { return false }
                raw[index] = byte
            }
            return true
        }
        guard fits else { return nil }
        storage = .inline(words, count: UInt8(bytes.count))
    }

    public var text: String {
        switch storage {
        case .text(let text):
            return text
        case .inline(var words, let count):
            return withUnsafeBytes(of: &words) { String(decoding: $0[..<Int(count)], as: UTF8.self) }
        }
    }

    public var description: String { text }

    /// The id's UTF-8 bytes, in place.
    func withUTF8<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        switch storage {
        case .text(var text):
            return text.withUTF8(body)
        case .inline(var words, let count):
            return withUnsafeBytes(of: &words) { raw in
                body(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[..<Int(count)]))
            }
        }
    }

    public static func == (lhs: EventID, rhs: EventID) -> Bool {
        if case .inline(let left, let leftCount) = lhs.storage, case .inline(let right, let rightCount) = rhs.storage {
            return leftCount == rightCount && left.0 == right.0 && left.1 == right.1 && left.2 == right.2 && left.3 == right.3
                && left.4 == right.4
        }
        // Text compares by canonical equivalence, which can make a non-ASCII id equal to an ASCII one.
        return lhs.text == rhs.text
    }

    public static func < (lhs: EventID, rhs: EventID) -> Bool {
        guard case .inline(let left, _) = lhs.storage, case .inline(let right, _) = rhs.storage else { return lhs.text < rhs.text }
        // ASCII text orders by its bytes; read big-endian, a word orders as its eight bytes do, and the zero padding of
        // a shorter id sorts before any byte.
        if left.0 != right.0 { return UInt64(bigEndian: left.0) < UInt64(bigEndian: right.0) }
        if left.1 != right.1 { return UInt64(bigEndian: left.1) < UInt64(bigEndian: right.1) }
        if left.2 != right.2 { return UInt64(bigEndian: left.2) < UInt64(bigEndian: right.2) }
        if left.3 != right.3 { return UInt64(bigEndian: left.3) < UInt64(bigEndian: right.3) }
        return UInt64(bigEndian: left.4) < UInt64(bigEndian: right.4)
    }
}
