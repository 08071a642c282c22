import Foundation

/// A fast path for replay: reads the fields the rules need straight from one audit entry's JSON bytes,
/// without building a tree. Gives the same `SecurityEvent` as `SlackAuditEntry.event(from:)`; anything it
/// cannot read with certainty (malformed JSON) returns nil so the caller can count it.
public enum AuditLineScanner {
    static let paths: [[[UInt8]]] = [
        ["id"], ["date_create"], ["action"], ["actor", "user", "id"], ["context", "ip_address"], ["entity", "file", "id"],
        ["entity", "file", "name"], ["entity", "file", "title"], ["entity", "channel", "id"], ["details", "channel_id"],
        ["details", "channel"], ["entity", "message", "channel"], ["context", "agent_message", "channel_id"], ["details", "reason"],
    ].map { $0.map { Array($0.utf8) } }

    static let topLevel: [[UInt8]] = {
        var seen: [[UInt8]] = []
        for path in paths where !seen.contains(path[0]) { seen.append(path[0]) }
        return seen
    }()

    enum Field: Int {
        case id, dateCreate, action, user, ip, fileID, fileName, fileTitle, entityChannel, detailsChannelID, detailsChannel, messageChannel,
            agentChannel, reason
    }

    public static func event(_ line: UnsafeBufferPointer<UInt8>) -> SecurityEvent? {
        var scanner = Scanner(bytes: line)
        guard scanner.value(depth: 0), scanner.atEnd() else { return nil }
        func single(_ field: Field) -> String? {
            // Lists count only for `details.reason`.
            guard let parts = scanner.captured[field.rawValue], parts.count == 1, scanner.kinds[field.rawValue] != .array else { return nil }
            return scanner.text(parts[0])
        }
        func string(_ field: Field) -> String? { scanner.kinds[field.rawValue] == .string ? single(field) : nil }
        guard let id = string(.id), let action = string(.action), let createdText = single(.dateCreate),
            let created = Double(createdText), created.isFinite, created > 0, created < 1e11
        else { return nil }
        var reason: String?
        if scanner.kinds[Field.reason.rawValue] != .number, let parts = scanner.captured[Field.reason.rawValue] {
            let texts = parts.compactMap { scanner.text($0) }
            reason = texts.isEmpty ? nil : texts.joined(separator: ",")
        }
        return SecurityEvent(
            source: .slackAudit, id: id, at: Date(timeIntervalSince1970: TimeInterval(Int64(created))), action: action,
            userID: string(.user), ip: string(.ip).flatMap(IPAddress.init).map(\.description), fileID: string(.fileID),
            fileName: string(.fileName) ?? string(.fileTitle),
            channelID: string(.entityChannel) ?? string(.detailsChannelID) ?? string(.detailsChannel) ?? string(.messageChannel) ?? string(.agentChannel),
            reason: reason)
    }

    enum Kind { case string, number, array, other }

    /// A captured scalar: where its bytes are, and whether a string needs unescaping.
    struct Capture {
        var range: Range<Int>
        var escaped: Bool
        var isString: Bool
    }

    struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var path: [Range<Int>] = []
        var captured: [[Capture]?] = Array(repeating: nil, count: AuditLineScanner.paths.count)
        var kinds: [Kind?] = Array(repeating: nil, count: AuditLineScanner.paths.count)
        var inWantedArray: Int? = nil

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
            path.reserveCapacity(8)
        }

        mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0a || bytes[index] == 0x0d || bytes[index] == 0x09 { index += 1 }
        }

        mutating func atEnd() -> Bool {
            skipSpace()
            return index == bytes.count
        }

        func equal(_ range: Range<Int>, _ key: [UInt8]) -> Bool {
            guard range.count == key.count else { return false }
            var i = range.lowerBound
            for byte in key {
                if bytes[i] != byte { return false }
                i += 1
            }
            return true
        }

        func wanted() -> Int? {
            guard path.count <= 3 else { return nil }
            outer: for (n, candidate) in AuditLineScanner.paths.enumerated() where candidate.count == path.count {
                for (key, range) in zip(candidate, path) where !equal(range, key) { continue outer }
                return n
            }
            return nil
        }

        func isPrefixOfWanted() -> Bool {
            guard path.count <= 3 else { return false }
            if path.count == 1 {
                // Top-level keys: most of an entry's keys are rejected here on length alone.
                let key = path[0]
                for candidate in AuditLineScanner.topLevel where candidate.count == key.count && equal(key, candidate) { return true }
                return false
            }
            outer: for candidate in AuditLineScanner.paths where candidate.count >= path.count {
                for (key, range) in zip(candidate, path) where !equal(range, key) { continue outer }
                return true
            }
            return false
        }

        /// Steps over one JSON value, checking brackets and strings only (scalars in skipped parts are not validated).
        mutating func skipValue() -> Bool {
            skipSpace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return rawString() != nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.count {
                    let c = bytes[index]
                    if c == UInt8(ascii: "\"") {
                        guard rawString() != nil else { return false }
                        continue
                    }
                    if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                        depth += 1
                    } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return true
                        }
                    }
                    index += 1
                }
                return false
            default:
                let start = index
                while index < bytes.count {
                    let c = bytes[index]
                    if c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { break }
                    index += 1
                }
                return index > start
            }
        }

        /// The text of a capture, trimmed of ASCII white space; nil when empty.
        func text(_ capture: Capture) -> String? {
            var low = capture.range.lowerBound
            var high = capture.range.upperBound
            while low < high, bytes[low] == 0x20 || bytes[low] == 0x09 || bytes[low] == 0x0a || bytes[low] == 0x0d { low += 1 }
            while high > low, bytes[high - 1] == 0x20 || bytes[high - 1] == 0x09 || bytes[high - 1] == 0x0a || bytes[high - 1] == 0x0d { high -= 1 }
            guard low < high else { return nil }
            if !capture.escaped { return String(decoding: UnsafeBufferPointer(rebasing: bytes[low..<high]), as: UTF8.self) }
            // Rare: the JSON reader decodes the escapes.
            var quoted: [UInt8] = [UInt8(ascii: "\"")]
            quoted.append(contentsOf: bytes[capture.range])
            quoted.append(UInt8(ascii: "\""))
            guard case .string(let decoded)? = JSONValue.parse(quoted) else { return nil }
            let trimmed = decoded.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : trimmed
        }

        mutating func capture(_ field: Int, _ value: Capture) {
            if captured[field] == nil { captured[field] = [value] } else { captured[field]!.append(value) }
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < 64 else { return false }
            skipSpace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                    index += 1
                    return true
                }
                while true {
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let key = rawString() else { return false }
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return false }
                    index += 1
                    path.append(key.range)
                    // Most of an entry is of no interest: skip those subtrees without tracking paths.
                    let ok = isPrefixOfWanted() ? value(depth: depth + 1) : skipValue()
                    path.removeLast()
                    guard ok else { return false }
                    skipSpace()
                    guard index < bytes.count else { return false }
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    if bytes[index] == UInt8(ascii: "}") {
                        index += 1
                        return true
                    }
                    return false
                }
            case UInt8(ascii: "["):
                index += 1
                let field = wanted()
                if let field { kinds[field] = .array }
                let outerArray = inWantedArray
                inWantedArray = field
                defer { inWantedArray = outerArray }
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                    index += 1
                    return true
                }
                while true {
                    guard value(depth: depth + 1) else { return false }
                    skipSpace()
                    guard index < bytes.count else { return false }
                    if bytes[index] == UInt8(ascii: ",") {
                        index += 1
                        continue
                    }
                    if bytes[index] == UInt8(ascii: "]") {
                        index += 1
                        return true
                    }
                    return false
                }
            case UInt8(ascii: "\""):
                guard let string = rawString() else { return false }
                if let field = wanted() ?? inWantedArray {
                    capture(field, string)
                    if kinds[field] != .array { kinds[field] = .string }
                }
                return true
            default:
                let start = index
                while index < bytes.count {
                    let c = bytes[index]
                    if c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { break }
                    index += 1
                }
                guard index > start else { return false }
                let token = bytes[start..<index]
                let isNumber = token.allSatisfy { ($0 >= 48 && $0 <= 57) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
                let isLiteral = token.elementsEqual("true".utf8) || token.elementsEqual("false".utf8) || token.elementsEqual("null".utf8)
                guard isNumber || isLiteral else { return false }
                if isNumber, let field = wanted() {
                    capture(field, Capture(range: start..<index, escaped: false, isString: false))
                    kinds[field] = .number
                }
                return true
            }
        }

        /// A string's content range (escapes untouched); positions after the closing quote.
        mutating func rawString() -> Capture? {
            index += 1
            let start = index
            var escaped = false
            while index < bytes.count {
                let c = bytes[index]
                if c == UInt8(ascii: "\\") {
                    escaped = true
                    index += 2
                    continue
                }
                if c == UInt8(ascii: "\"") {
                    let capture = Capture(range: start..<index, escaped: escaped, isString: true)
                    index += 1
                    return capture
                }
                if c < 0x20 { return nil }
                index += 1
            }
            return nil
        }
    }
}
