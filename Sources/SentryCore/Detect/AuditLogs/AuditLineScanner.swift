import Foundation

/// A fast path for replay: reads the fields the rules need straight from one audit entry's JSON bytes, without
/// building a tree and without allocating for what it skips. Gives the same `SecurityEvent` as
/// `SlackAuditEntry.event(from:)` (the first of duplicate keys wins, as there); a line it cannot read with certainty
/// returns nil so the caller can count it. The parts it skips are checked for balanced brackets and well-formed
/// strings only.
public enum AuditLineScanner {
    public static func event(_ line: UnsafeBufferPointer<UInt8>) -> SecurityEvent? {
        var scanner = Scanner(bytes: line)
        guard scanner.entry(), scanner.atEnd() else { return nil }
        return scanner.fields.event(in: line)
    }

    /// Where a wanted value stands in the line.
    enum Slot {
        /// The key was not there (yet).
        case missing
        /// A string's content; `plain` when it holds neither escapes nor non-ASCII bytes, so its bytes are its text.
        case string(Range<Int>, plain: Bool)
        case number(Double)
        /// A list, brackets included (only `details.reason` reads one).
        case list(Range<Int>)
        /// Anything else: the key is there, so a repeated key does not count.
        case other

        var isMissing: Bool {
            if case .missing = self { return true }
            return false
        }
    }

    enum Field {
        case id, dateCreate, action, user, ip, fileID, fileName, fileTitle, entityChannel, detailsChannelID, detailsChannel, messageChannel,
            agentChannel, reason
    }

    /// The values `SlackAuditEntry.event(from:)` reads, by their path in the entry.
    struct Fields {
        var id = Slot.missing, dateCreate = Slot.missing, action = Slot.missing
        /// `actor.user.id`, `context.ip_address`.
        var user = Slot.missing, ip = Slot.missing
        /// `entity.file.id`, `.name`, `.title`.
        var fileID = Slot.missing, fileName = Slot.missing, fileTitle = Slot.missing
        /// `entity.channel.id`, `details.channel_id`, `details.channel`, `entity.message.channel`,
        /// `context.agent_message.channel_id`: the channel, in this order of preference.
        var entityChannel = Slot.missing, detailsChannelID = Slot.missing, detailsChannel = Slot.missing
        var messageChannel = Slot.missing, agentChannel = Slot.missing
        var reason = Slot.missing

        subscript(field: Field) -> Slot {
            get {
                switch field {
                case .id: id
                case .dateCreate: dateCreate
                case .action: action
                case .user: user
                case .ip: ip
                case .fileID: fileID
                case .fileName: fileName
                case .fileTitle: fileTitle
                case .entityChannel: entityChannel
                case .detailsChannelID: detailsChannelID
                case .detailsChannel: detailsChannel
                case .messageChannel: messageChannel
                case .agentChannel: agentChannel
                case .reason: reason
                }
            }
            set {
                switch field {
                case .id: id = newValue
                case .dateCreate: dateCreate = newValue
                case .action: action = newValue
                case .user: user = newValue
                case .ip: ip = newValue
                case .fileID: fileID = newValue
                case .fileName: fileName = newValue
                case .fileTitle: fileTitle = newValue
                case .entityChannel: entityChannel = newValue
                case .detailsChannelID: detailsChannelID = newValue
                case .detailsChannel: detailsChannel = newValue
                case .messageChannel: messageChannel = newValue
                case .agentChannel: agentChannel = newValue
                case .reason: reason = newValue
                }
            }
        }

        func event(in bytes: UnsafeBufferPointer<UInt8>) -> SecurityEvent? {
            var reader = TextReader(bytes: bytes)
            guard let id = reader.identifier(id), let action = AuditLineScanner.knownAction(action, in: bytes) ?? reader.text(action),
                let created = seconds(in: bytes)
            else { return nil }
            let userID = reader.text(user)
            let ip = reader.address(ip)
            let fileID = reader.text(fileID)
            let fileName = reader.text(fileName) ?? reader.text(fileTitle)
            let channelID =
                reader.text(entityChannel) ?? reader.text(detailsChannelID) ?? reader.text(detailsChannel)
                ?? reader.text(messageChannel) ?? reader.text(agentChannel)
            let reason = reader.reason(reason)
            // A wanted string that is not valid UTF-8 makes the line no JSON, as for the full decoder.
            guard !reader.invalid else { return nil }
            return SecurityEvent(
                source: .slackAudit, eventID: id, at: Date(timeIntervalSince1970: TimeInterval(created)), action: action, userID: userID,
                ip: ip, fileID: fileID, fileName: fileName, channelID: channelID, reason: reason)
        }

        /// `date_create`, a number or a numeric string, as whole seconds; nil when no date has it.
        func seconds(in bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
            let seconds: Double?
            switch dateCreate {
            case .number(let value): seconds = value
            case .string(let range, let plain):
                guard case .text(let text) = AuditLineScanner.text(bytes, range, plain: plain, newlines: false) else { return nil }
                seconds = Double(text)
            default: seconds = nil
            }
            guard let seconds, seconds.isFinite, seconds > 0, seconds < 1e11 else { return nil }
            return Int64(seconds)
        }
    }

    /// Reads wanted strings as `SlackAuditEntry.nonEmpty` does, noting one that is not valid UTF-8 or holds a bad escape.
    struct TextReader {
        let bytes: UnsafeBufferPointer<UInt8>
        var invalid = false

        mutating func text(_ slot: Slot) -> String? {
            guard case .string(let range, let plain) = slot else { return nil }
            return text(range, plain: plain)
        }

        mutating func text(_ range: Range<Int>, plain: Bool) -> String? {
            switch AuditLineScanner.text(bytes, range, plain: plain) {
            case .text(let text): return text
            case .empty: return nil
            case .invalid:
                invalid = true
                return nil
            }
        }

        /// The entry's id, as `text` reads it; plain text (ASCII, no escapes) is kept in place without making a string.
        mutating func identifier(_ slot: Slot) -> EventID? {
            guard case .string(let range, let plain) = slot else { return nil }
            if plain {
                // Trimmed as `AuditLineScanner.text` trims plain text.
                var low = range.lowerBound
                var high = range.upperBound
                while low < high, bytes[low] == 0x20 { low += 1 }
                while high > low, bytes[high - 1] == 0x20 { high -= 1 }
                guard low < high else { return nil }
                if let inline = EventID(inlineBytes: UnsafeBufferPointer(rebasing: bytes[low..<high])) { return inline }
            }
            return text(range, plain: plain).map(EventID.init)
        }

        /// `context.ip_address` in canonical form; nil when it is no address (Slack's docs carry `1.23.45.678`).
        mutating func address(_ slot: Slot) -> String? {
            guard case .string(let range, let plain) = slot, let text = text(range, plain: plain) else { return nil }
            // Dotted-quad text as Slack writes it is already canonical: no round trip through inet_pton and inet_ntop.
            if text.utf8.count == range.count, IPAddress.isCanonicalIPv4(UnsafeBufferPointer(rebasing: bytes[range])) { return text }
            return IPAddress(text)?.description
        }

        /// `details.reason`: one string, or a list whose strings are joined with commas.
        mutating func reason(_ slot: Slot) -> String? {
            switch slot {
            case .string(let range, let plain):
                return text(range, plain: plain)
            case .list(let range):
                var scanner = Scanner(bytes: UnsafeBufferPointer(rebasing: bytes[range]))
                var parts: [String] = []
                let closed = scanner.elements(closedBy: UInt8(ascii: "]")) { scanner in
                    guard scanner.peek == UInt8(ascii: "\"") else { return scanner.skipValue() }
                    let start = scanner.index + 1
                    guard let plain = scanner.string() else { return false }
                    // The scanner works on the list alone: its positions are offsets from the list's start.
                    if let part = text((range.lowerBound + start)..<(range.lowerBound + scanner.index - 1), plain: plain) { parts.append(part) }
                    return true
                }
                return closed && !parts.isEmpty ? parts.joined(separator: ",") : nil
            default:
                return nil
            }
        }
    }

    enum Text {
        case text(String)
        /// Nothing but white space.
        case empty
        /// Not valid UTF-8, or a bad escape.
        case invalid
    }

    /// A string's text without surrounding white space (and new lines), as `SlackAuditEntry.nonEmpty` reads it.
    static func text(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, plain: Bool, newlines: Bool = true) -> Text {
        guard plain else {
            // Rare: the JSON reader decodes the escapes and checks the UTF-8; Foundation trims what is not ASCII.
            var quoted: [UInt8] = [UInt8(ascii: "\"")]
            quoted.append(contentsOf: bytes[range])
            quoted.append(UInt8(ascii: "\""))
            guard case .string(let decoded)? = JSONValue.parse(quoted) else { return .invalid }
            let trimmed = decoded.trimmingCharacters(in: newlines ? .whitespacesAndNewlines : .whitespaces)
            return trimmed.isEmpty ? .empty : .text(trimmed)
        }
        // Plain text holds no control characters (JSON forbids them raw), so a space is the only white space in it.
        var low = range.lowerBound
        var high = range.upperBound
        while low < high, bytes[low] == 0x20 { low += 1 }
        while high > low, bytes[high - 1] == 0x20 { high -= 1 }
        guard low < high else { return .empty }
        return .text(String(decoding: UnsafeBufferPointer(rebasing: bytes[low..<high]), as: UTF8.self))
    }

    /// The actions the built-in rules read, as literals: the common actions then cost no allocation per event.
    static let knownActions: [String] = [
        "file_downloaded", "file_uploaded", "file_public_link_created", "user_login", "user_login_failed", "anomaly",
        "ip_allowlist_access_denied", "user_logout",
    ]

    /// The literal for a plain action spelled exactly as one of `knownActions`.
    static func knownAction(_ slot: Slot, in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard case .string(let range, true) = slot else { return nil }
        for known in knownActions where known.utf8.count == range.count {
            let same = known.utf8.withContiguousStorageIfAvailable {
                memcmp($0.baseAddress!, bytes.baseAddress! + range.lowerBound, range.count) == 0
            }
            if same == true { return known }
        }
        return nil
    }
}
