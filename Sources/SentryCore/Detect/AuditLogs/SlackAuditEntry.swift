import Foundation

/// Decodes Slack Audit Logs API entries (`GET /audit/v1/logs`) into `SecurityEvent`s.
///
/// Entries are polymorphic: `context.session_id` is a string or a number, `details` differs by action,
/// `details.reason` is a string, a list or an object, and any part but `id`, `action` and `date_create` may be
/// missing or hold a placeholder. Nothing here traps on what Slack sends.
public enum SlackAuditEntry {
    /// The event an entry describes; nil when it has no usable `id`, `action` or `date_create`.
    public static func event(from entry: JSONValue) -> SecurityEvent? {
        guard let id = nonEmpty(entry["id"]), let action = nonEmpty(entry["action"]), let created = epochSeconds(entry["date_create"])
        else { return nil }
        let entity = entry["entity"]
        let context = entry["context"]
        let details = entry["details"]
        let file = entity?["file"]
        return SecurityEvent(
            source: .slackAudit,
            id: id,
            at: Date(timeIntervalSince1970: TimeInterval(created)),
            action: action,
            userID: nonEmpty(entry["actor"]?["user"]?["id"]),
            // Slack's own docs example carries a placeholder (`1.23.45.678`); only a real address is kept.
            ip: nonEmpty(context?["ip_address"]).flatMap(IPAddress.init).map(\.description),
            fileID: nonEmpty(file?["id"]),
            fileName: nonEmpty(file?["name"]) ?? nonEmpty(file?["title"]),
            channelID: nonEmpty(entity?["channel"]?["id"])
                ?? nonEmpty(details?["channel_id"])
                ?? nonEmpty(details?["channel"])
                ?? nonEmpty(entity?["message"]?["channel"])
                ?? nonEmpty(context?["agent_message"]?["channel_id"]),
            reason: reason(details?["reason"])
        )
    }

    /// Every entry of a `logs` response; nil when the body is not one (no `entries` list).
    public static func decodePage(_ bytes: some Collection<UInt8>) -> SlackAuditPage? {
        guard let body = JSONValue.parse(bytes), let entries = body["entries"]?.arrayValue else { return nil }
        var events: [SecurityEvent] = []
        events.reserveCapacity(entries.count)
        var malformed = 0
        for entry in entries {
            if let event = event(from: entry) { events.append(event) } else { malformed += 1 }
        }
        return SlackAuditPage(events: events, malformed: malformed, nextCursor: nonEmpty(body["response_metadata"]?["next_cursor"]))
    }

    /// `anomaly` reasons come as one string or a list of strings; a list is joined with commas.
    static func reason(_ value: JSONValue?) -> String? {
        if let text = nonEmpty(value) { return text }
        let parts = value?.arrayValue?.compactMap { nonEmpty($0) } ?? []
        return parts.isEmpty ? nil : parts.joined(separator: ",")
    }

    /// Whole seconds since 1970 from a number or a numeric string; nil for anything else or a value no date has.
    static func epochSeconds(_ value: JSONValue?) -> Int64? {
        let seconds: Double?
        switch value {
        case .number(let number): seconds = number
        case .string(let text): seconds = Double(text.trimmingCharacters(in: .whitespaces))
        default: seconds = nil
        }
        guard let seconds, seconds.isFinite, seconds > 0, seconds < 1e11 else { return nil }
        return Int64(seconds)
    }

    /// A string with something in it; the shape samples use `""` as a placeholder.
    static func nonEmpty(_ value: JSONValue?) -> String? {
        guard let text = value?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }
}

/// One page of a `logs` response, decoded.
public struct SlackAuditPage: Equatable, Sendable {
    public var events: [SecurityEvent]
    /// Entries without a usable `id`, `action` or `date_create`, skipped.
    public var malformed: Int
    /// `response_metadata.next_cursor`; nil on the last page (Slack sends `""`).
    public var nextCursor: String?

    public init(events: [SecurityEvent], malformed: Int, nextCursor: String?) {
        self.events = events
        self.malformed = malformed
        self.nextCursor = nextCursor
    }
}
