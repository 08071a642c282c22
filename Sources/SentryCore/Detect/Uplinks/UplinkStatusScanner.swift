import Foundation

/// A fast path for uplink replay: reads the `UplinkReport`s of a poll (a list of appliance uplink statuses, or one)
/// straight from its JSON bytes, without building a tree and touching only the fields the tracker reads.
///
/// It follows the rules of `MerakiUplinkStatus`'s reader (network id, serial and each uplink's interface are
/// strings, other fields strings or numbers, `uplinks` missing, null or a list of objects, the first of duplicate
/// keys wins, the whole text valid JSON nested at most 512 deep). Strings with escapes or non-ASCII bytes (which
/// need unescaping and UTF-8 validation), and a leading byte-order mark, are left to the slow path: `.unsupported`.
public enum UplinkStatusScanner {
    public enum Result: Equatable, Sendable {
        case reports([UplinkReport])
        /// Not a status or a list of them (or not JSON).
        case notStatuses
        /// Possibly statuses, in a form this scanner does not read: ask the full reader.
        case unsupported
    }

    /// `single`: only one status (an object) is a match, as for one element of a document.
    public static func scan(_ bytes: UnsafeBufferPointer<UInt8>, single: Bool = false) -> Result {
        var scanner = Scanner(bytes: bytes)
        let reports = scanner.document(single: single)
        if scanner.unsupported { return .unsupported }
        return reports.map(Result.reports) ?? .notStatuses
    }

    struct Scanner {
        static let maxDepth = 512
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var unsupported = false
        /// The last `lastReportedAt` read and its date: a poll's statuses mostly share one.
        var timeRange: Range<Int>?
        var time: Date?

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        static let quote = UInt8(ascii: "\"")

        mutating func document(single: Bool) -> [UplinkReport]? {
            skipWhitespace()
            guard index < bytes.count else { return nil }
            var reports: [UplinkReport] = []
            switch bytes[index] {
            case 0xEF:
                unsupported = true
                return nil
            case UInt8(ascii: "["):
                // One element of a document must be one status.
                guard !single else { return nil }
                let closed = elements(closedBy: UInt8(ascii: "]"), depth: 1) { scanner, depth in
                    guard let report = scanner.status(depth: depth) else { return false }
                    reports.append(report)
                    return true
                }
                guard closed else { return nil }
            case UInt8(ascii: "{"):
                guard let report = status(depth: 0) else { return nil }
                reports.append(report)
            default:
                return nil
            }
            return atEnd() ? reports : nil
        }

        mutating func atEnd() -> Bool {
            skipWhitespace()
            return index == bytes.count
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                let byte = bytes[index]
                guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
                index += 1
            }
        }

        /// At a value of an array at `depth`: one status object (depth + 1).
        mutating func status(depth: Int) -> UplinkReport? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
                _ = skipValue(depth: depth)
                return nil
            }
            var networkID: String?
            var serial: String?
            var lastReportedAt: Date?
            var seenNetwork = false
            var seenSerial = false
            var seenTime = false
            var seenUplinks = false
            var uplinks: [UplinkReport.Uplink] = []
            var fine = true
            let closed = elements(closedBy: UInt8(ascii: "}"), depth: depth + 1) { scanner, depth in
                guard let key = scanner.key() else { return false }
                switch key {
                case .networkId where !seenNetwork:
                    seenNetwork = true
                    return scanner.strict(depth: depth, into: &networkID)
                case .serial where !seenSerial:
                    seenSerial = true
                    return scanner.strict(depth: depth, into: &serial)
                case .lastReportedAt where !seenTime:
                    seenTime = true
                    return scanner.reportTime(depth: depth, into: &lastReportedAt)
                case .uplinks where !seenUplinks:
                    seenUplinks = true
                    guard scanner.index < scanner.bytes.count else { return false }
                    switch scanner.bytes[scanner.index] {
                    case UInt8(ascii: "["):
                        return scanner.elements(closedBy: UInt8(ascii: "]"), depth: depth + 1) { scanner, depth in
                            guard let uplink = scanner.uplink(depth: depth) else { return false }
                            uplinks.append(uplink)
                            return true
                        }
                    case UInt8(ascii: "n"):
                        return scanner.literal("null")
                    default:
                        fine = false
                        return scanner.skipValue(depth: depth)
                    }
                default:
                    return scanner.skipValue(depth: depth)
                }
            }
            guard closed, fine, let networkID, let serial else { return nil }
            return UplinkReport(serial: serial, networkID: networkID, lastReportedAt: lastReportedAt, uplinks: uplinks)
        }

        /// At a value of an array at `depth`: one uplink object.
        mutating func uplink(depth: Int) -> UplinkReport.Uplink? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
                _ = skipValue(depth: depth)
                return nil
            }
            var interface: String?
            var status: String?
            var ip: String?
            var publicIP: String?
            var seenInterface = false
            var seenStatus = false
            var seenIP = false
            var seenPublicIP = false
            let closed = elements(closedBy: UInt8(ascii: "}"), depth: depth + 1) { scanner, depth in
                guard let key = scanner.key() else { return false }
                switch key {
                case .interface where !seenInterface:
                    seenInterface = true
                    return scanner.strict(depth: depth, into: &interface)
                case .status where !seenStatus:
                    seenStatus = true
                    return scanner.lenient(depth: depth, into: &status)
                case .ip where !seenIP:
                    seenIP = true
                    return scanner.lenient(depth: depth, into: &ip)
                case .publicIp where !seenPublicIP:
                    seenPublicIP = true
                    return scanner.lenient(depth: depth, into: &publicIP)
                default:
                    return scanner.skipValue(depth: depth)
                }
            }
            guard closed, let interface else { return nil }
            return UplinkReport.Uplink(interface: interface, status: status, ip: ip, publicIP: publicIP)
        }

        enum Key {
            case networkId, serial, lastReportedAt, uplinks, interface, status, ip, publicIp, other
        }

        /// At a key: which one, past its colon and the white space after it.
        mutating func key() -> Key? {
            guard index < bytes.count, bytes[index] == Self.quote, let range = stringRange() else { return nil }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace()
            return Self.key(UnsafeBufferPointer(rebasing: bytes[range]))
        }

        static func key(_ name: UnsafeBufferPointer<UInt8>) -> Key {
            func equal(_ word: StaticString) -> Bool {
                guard word.utf8CodeUnitCount == name.count else { return false }
                return memcmp(word.utf8Start, name.baseAddress!, name.count) == 0
            }
            switch name.count {
            case 2: return equal("ip") ? .ip : .other
            case 6: return equal("serial") ? .serial : equal("status") ? .status : .other
            case 7: return equal("uplinks") ? .uplinks : .other
            case 8: return equal("publicIp") ? .publicIp : .other
            case 9: return equal("networkId") ? .networkId : equal("interface") ? .interface : .other
            case 14: return equal("lastReportedAt") ? .lastReportedAt : .other
            default: return .other
            }
        }

        /// A field that must be a string (anything else is read, and leaves `out` nil).
        mutating func strict(depth: Int, into out: inout String?) -> Bool {
            guard index < bytes.count, bytes[index] == Self.quote else { return skipValue(depth: depth) }
            guard let range = stringRange() else { return false }
            out = text(range)
            return true
        }

        /// A string, or a number written as text (as `MerakiUplinkStatus.lenient` reads it); anything else nil.
        mutating func lenient(depth: Int, into out: inout String?) -> Bool {
            guard index < bytes.count else { return false }
            let byte = bytes[index]
            if byte == Self.quote {
                guard let range = stringRange() else { return false }
                out = text(range)
                return true
            }
            if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                guard let number = number() else { return false }
                if number.rounded() == number, abs(number) < 9.2e18 { out = String(Int(number)) } else { out = String(number) }
                return true
            }
            return skipValue(depth: depth)
        }

        /// `lastReportedAt` as a date; the date of the previous one when the text is the same.
        mutating func reportTime(depth: Int, into out: inout Date?) -> Bool {
            guard index < bytes.count, bytes[index] == Self.quote else {
                var text: String?
                guard lenient(depth: depth, into: &text) else { return false }
                out = text.flatMap(Timestamp.parseISO8601)
                return true
            }
            guard let range = stringRange() else { return false }
            if let timeRange, timeRange.count == range.count,
                memcmp(bytes.baseAddress! + timeRange.lowerBound, bytes.baseAddress! + range.lowerBound, range.count) == 0
            {
                out = time
                return true
            }
            let date = Timestamp.parseISO8601(text(range))
            timeRange = range
            time = date
            out = date
            return true
        }

        func text(_ range: Range<Int>) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }

        /// At an opening quote: the range of the text; nil when the string is malformed or (setting
        /// `unsupported`) holds an escape or a non-ASCII byte.
        mutating func stringRange() -> Range<Int>? {
            index += 1
            let start = index
            while index < bytes.count {
                if index + 8 <= bytes.count {
                    let ordinary = JSONBytes.ordinaryPrefix(bytes, at: index)
                    index += ordinary
                    if ordinary == 8 { continue }
                }
                let byte = bytes[index]
                if byte == Self.quote {
                    index += 1
                    return start..<(index - 1)
                }
                if byte == UInt8(ascii: "\\") || byte >= 0x80 {
                    unsupported = true
                    return nil
                }
                if byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count, memcmp(word.utf8Start, bytes.baseAddress! + index, count) == 0 else { return false }
            index += count
            return true
        }

        /// At a value inside a container at `depth`: past it, if it is valid JSON.
        mutating func skipValue(depth: Int) -> Bool {
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                return elements(closedBy: UInt8(ascii: "}"), depth: depth + 1) { scanner, depth in
                    guard scanner.key() != nil else { return false }
                    return scanner.skipValue(depth: depth)
                }
            case UInt8(ascii: "["):
                return elements(closedBy: UInt8(ascii: "]"), depth: depth + 1) { scanner, depth in scanner.skipValue(depth: depth) }
            case Self.quote: return stringRange() != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number() != nil
            default: return false
            }
        }

        /// At `[` or `{` opening a container at `depth`: its elements, each read by `element` (given the depth),
        /// separated by commas; a trailing comma is tolerated, as by `JSONValue.parse`.
        mutating func elements(closedBy close: UInt8, depth: Int, _ element: (inout Scanner, Int) -> Bool) -> Bool {
            guard depth <= Self.maxDepth else { return false }
            index += 1
            skipWhitespace()
            while true {
                if index < bytes.count, bytes[index] == close {
                    index += 1
                    return true
                }
                guard element(&self, depth) else { return false }
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

        /// A JSON number, with the grammar of the JSON reader.
        mutating func number() -> Double? {
            guard let (value, end) = JSONParser.number(in: bytes, at: index) else { return nil }
            index = end
            return value
        }
    }
}
