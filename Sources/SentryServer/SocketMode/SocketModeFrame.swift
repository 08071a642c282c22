import Foundation
import SentryCore

/// A text frame Slack sends over a Socket Mode connection.
public enum SocketModeFrame: Sendable, Equatable {
    /// The first frame of a connection: it counts as open only from here.
    case hello(numConnections: Int?, approximateConnectionTime: Int?)
    /// Slack will close (`warning`, `refresh_requested`) or has turned Socket Mode off (`link_disabled`).
    case disconnect(reason: String)
    case envelope(SocketModeEnvelope)
    /// A type this client does not know, or a frame that is not a JSON object: logged and ignored.
    case unknown(type: String)

    public static func decode(_ text: String) -> SocketModeFrame {
        guard let json = JSONValue.parse(Array(text.utf8)), json.objectValue != nil else { return .unknown(type: "(not a JSON object)") }
        let type = json["type"]?.stringValue ?? ""
        switch type {
        case "hello":
            return .hello(
                numConnections: json["num_connections"]?.numberValue.map { Int($0) },
                approximateConnectionTime: json["debug_info"]?["approximate_connection_time"]?.numberValue.map { Int($0) })
        case "disconnect":
            return .disconnect(reason: json["reason"]?.stringValue ?? "")
        default:
            guard let kind = SocketModeEnvelope.Kind(rawValue: type), let id = json["envelope_id"]?.stringValue, !id.isEmpty else {
                return .unknown(type: String(type.prefix(40)))
            }
            return .envelope(
                SocketModeEnvelope(
                    id: id, kind: kind, payload: json["payload"] ?? .null,
                    acceptsResponsePayload: json["accepts_response_payload"]?.boolValue ?? false,
                    retryAttempt: json["retry_attempt"]?.numberValue.map { Int($0) } ?? 0))
        }
    }
}

/// One delivery to ack with its `envelope_id` within 3 seconds.
public struct SocketModeEnvelope: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case eventsAPI = "events_api"
        case interactive
        case slashCommands = "slash_commands"
    }

    public var id: String
    public var kind: Kind
    public var payload: JSONValue
    public var acceptsResponsePayload: Bool
    /// Above 0 for Slack's redeliveries of an event: real deliveries, deduplicated by event id, never dropped.
    public var retryAttempt: Int

    public init(id: String, kind: Kind, payload: JSONValue, acceptsResponsePayload: Bool, retryAttempt: Int = 0) {
        self.id = id
        self.kind = kind
        self.payload = payload
        self.acceptsResponsePayload = acceptsResponsePayload
        self.retryAttempt = retryAttempt
    }

    /// The callback the HTTP endpoints would have decoded from the same payload; nil when it has the wrong shape.
    public var callback: SlackCallback? {
        guard let object = payload.objectValue else { return nil }
        switch kind {
        case .eventsAPI: return .event(payload)
        case .interactive: return .interaction(payload: payload)
        case .slashCommands:
            // The form fields as JSON: strings as they are, anything else as its JSON text.
            return .command(fields: object.mapValues { $0.stringValue ?? $0.encoded() })
        }
    }

    /// The Events API id that deduplicates deliveries across sockets and retries.
    public var eventID: String? {
        kind == .eventsAPI ? payload["event_id"]?.stringValue : nil
    }

    /// The ack: one text frame with the envelope id and, when Slack accepts one, the payload the HTTP body would
    /// have carried.
    public func ack(payload answer: JSONValue?) -> String {
        var object: [String: JSONValue] = ["envelope_id": .string(id)]
        if acceptsResponsePayload, let answer { object["payload"] = answer }
        return JSONValue.object(object).encoded()
    }
}
