import SentryCore

/// Slack message metadata (`event_type` + `event_payload`): ties a posted message back to our alert.
public struct SlackMessageMetadata: Sendable, Equatable, Hashable, Codable {
    public var eventType: String
    public var payload: [String: JSONValue]

    public init(eventType: String, payload: [String: JSONValue] = [:]) {
        self.eventType = eventType
        self.payload = payload
    }

    enum CodingKeys: String, CodingKey {
        case eventType = "event_type"
        case payload = "event_payload"
    }

    /// Reads Slack's `metadata` object; nil without an `event_type`.
    public init?(json: JSONValue?) {
        guard let eventType = json?["event_type"]?.stringValue else { return nil }
        self.init(eventType: eventType, payload: json?["event_payload"]?.objectValue ?? [:])
    }

    public var json: JSONValue {
        .object(["event_type": .string(eventType), "event_payload": .object(payload)])
    }
}
