import Foundation

extension AuditLineScanner {
    /// Walks one entry: into the objects on the path to a wanted field, over everything else.
    struct Scanner {
        static let quote = UInt8(ascii: "\"")

        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var fields = Fields()
        /// The objects on a wanted path already read (`Path` bits): the first of repeated keys wins.
        var seen: UInt16 = 0

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        /// The objects on the paths to wanted fields.
        enum Path: UInt16 {
            case actor = 1
            case actorUser = 2
            case context = 4
            case agentMessage = 8
            case entity = 16
            case file = 32
            case channel = 64
            case message = 128
            case details = 256
        }

        /// The byte at the cursor, or 0 at the end.
        var peek: UInt8 { index < bytes.count ? bytes[index] : 0 }

        mutating func skipSpace() {
            while index < bytes.count {
                let byte = bytes[index]
                guard byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09 else { return }
                index += 1
            }
        }

        mutating func atEnd() -> Bool {
            skipSpace()
            return index == bytes.count
        }

        /// The top-level object.
        mutating func entry() -> Bool {
            skipSpace()
            guard peek == UInt8(ascii: "{") else { return false }
            return members { scanner, key in
                switch key {
                case "id": return scanner.leaf(.id)
                case "action": return scanner.leaf(.action)
                case "date_create": return scanner.leaf(.dateCreate, number: true)
                case "actor":
                    return scanner.object(.actor) { scanner, key in
                        key == "user"
                            ? scanner.object(.actorUser) { scanner, key in
                                key == "id" ? scanner.leaf(.user) : nil
                            } : nil
                    }
                case "context":
                    return scanner.object(.context) { scanner, key in
                        switch key {
                        case "ip_address": return scanner.leaf(.ip)
                        case "agent_message":
                            return scanner.object(.agentMessage) { scanner, key in
                                key == "channel_id" ? scanner.leaf(.agentChannel) : nil
                            }
                        default: return nil
                        }
                    }
                case "entity":
                    return scanner.object(.entity) { scanner, key in
                        switch key {
                        case "file":
                            return scanner.object(.file) { scanner, key in
                                switch key {
                                case "id": return scanner.leaf(.fileID)
                                case "name": return scanner.leaf(.fileName)
                                case "title": return scanner.leaf(.fileTitle)
                                default: return nil
                                }
                            }
                        case "channel":
                            return scanner.object(.channel) { scanner, key in
                                key == "id" ? scanner.leaf(.entityChannel) : nil
                            }
                        case "message":
                            return scanner.object(.message) { scanner, key in
                                key == "channel" ? scanner.leaf(.messageChannel) : nil
                            }
                        default: return nil
                        }
                    }
                case "details":
                    return scanner.object(.details) { scanner, key in
                        switch key {
                        case "channel_id": return scanner.leaf(.detailsChannelID)
                        case "channel": return scanner.leaf(.detailsChannel)
                        case "reason": return scanner.leaf(.reason, list: true)
                        default: return nil
                        }
                    }
                default: return nil
                }
            }
        }

        /// At the value of a key on a wanted path: its members, when it is an object and the first of its key.
        mutating func object(_ path: Path, _ member: (inout Scanner, Key) -> Bool?) -> Bool {
            guard seen & path.rawValue == 0 else { return skipValue() }
            seen |= path.rawValue
            guard peek == UInt8(ascii: "{") else { return skipValue() }
            return members(member)
        }

        /// At `{`: each member's key for `member`, which reads the value, or answers nil to have it skipped.
        mutating func members(_ member: (inout Scanner, Key) -> Bool?) -> Bool {
            elements(closedBy: UInt8(ascii: "}")) { scanner in
                guard scanner.peek == Self.quote else { return false }
                let start = scanner.index + 1
                guard scanner.string() != nil else { return false }
                let key = Key(bytes: scanner.bytes, range: start..<(scanner.index - 1))
                scanner.skipSpace()
                guard scanner.peek == UInt8(ascii: ":") else { return false }
                scanner.index += 1
                scanner.skipSpace()
                return member(&scanner, key) ?? scanner.skipValue()
            }
        }

        /// At `[` or `{`: the elements, each read by `element`, up to `close`; a trailing comma is tolerated, as by
        /// `JSONValue.parse`.
        mutating func elements(closedBy close: UInt8, _ element: (inout Scanner) -> Bool) -> Bool {
            index += 1
            skipSpace()
            while true {
                if peek == close {
                    index += 1
                    return true
                }
                guard element(&self) else { return false }
                skipSpace()
                if peek == UInt8(ascii: ",") {
                    index += 1
                    skipSpace()
                    continue
                }
                guard peek == close else { return false }
                index += 1
                return true
            }
        }

        /// At the value of a wanted field: where it is, unless the key came before. `number`: a number is read (as
        /// `date_create` is); `list`: a list is kept (as `details.reason` is).
        mutating func leaf(_ field: Field, number: Bool = false, list: Bool = false) -> Bool {
            guard fields[field].isMissing else { return skipValue() }
            let start = index
            switch peek {
            case Self.quote:
                guard let plain = string() else { return false }
                fields[field] = .string((start + 1)..<(index - 1), plain: plain)
                return true
            case UInt8(ascii: "-") where number, UInt8(ascii: "0")...UInt8(ascii: "9") where number:
                guard let (value, end) = JSONParser.number(in: bytes, at: index) else { return false }
                index = end
                fields[field] = .number(value)
                return true
            case UInt8(ascii: "[") where list:
                guard skipValue() else { return false }
                fields[field] = .list(start..<index)
                return true
            default:
                fields[field] = .other
                return skipValue()
            }
        }

        /// At an opening quote: past the closing one; whether the text is plain (no escape, nothing but ASCII), or
        /// nil when the string is malformed.
        mutating func string() -> Bool? {
            index += 1
            var plain = true
            while index < bytes.count {
                if index + 8 <= bytes.count {
                    let ordinary = JSONBytes.ordinaryPrefix(bytes, at: index)
                    index += ordinary
                    if ordinary == 8 { continue }
                }
                let byte = bytes[index]
                if byte == Self.quote {
                    index += 1
                    return plain
                }
                if byte == UInt8(ascii: "\\") {
                    plain = false
                    index += 2
                    continue
                }
                if byte < 0x20 { return nil }
                if byte >= 0x80 { plain = false }
                index += 1
            }
            return nil
        }

        /// Steps over one value, checking brackets and strings only (scalars in skipped parts are not validated).
        mutating func skipValue() -> Bool {
            switch peek {
            case Self.quote:
                return string() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.count {
                    switch bytes[index] {
                    case Self.quote:
                        guard string() != nil else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    default:
                        break
                    }
                    index += 1
                }
                return false
            default:
                let start = index
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte == 0x20 || byte == 0x0a
                        || byte == 0x0d || byte == 0x09
                    {
                        break
                    }
                    index += 1
                }
                return index > start
            }
        }
    }

    /// A key's bytes, compared with the names of wanted fields without making a `String`.
    struct Key {
        let bytes: UnsafeBufferPointer<UInt8>
        let range: Range<Int>

        static func ~= (name: StaticString, key: Key) -> Bool {
            let count = name.utf8CodeUnitCount
            guard count == key.range.count else { return false }
            // A few bytes: compared here rather than through a call to memcmp.
            let expected = name.utf8Start
            let actual = key.bytes.baseAddress! + key.range.lowerBound
            var offset = 0
            while offset < count, expected[offset] == actual[offset] { offset += 1 }
            return offset == count
        }

        static func == (key: Key, name: StaticString) -> Bool { name ~= key }
    }
}
