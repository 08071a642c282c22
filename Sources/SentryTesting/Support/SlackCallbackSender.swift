import Foundation
import SentryCore

/// Slack's callbacks to a local Sentry as the app is set up: signed HTTP posts, or envelopes over the Socket
/// Mode simulator (answered by the ack's payload). For `sentry demo` and its `--socket-mode`.
public enum SlackCallbackSender: Sendable {
    case http(LoopbackClient)
    case socketMode(SocketModeSimulator)

    /// A button click (block_actions).
    public func click(_ actionID: String, value: String, user: String, responseURL: String, messageTS: String = "1.0") async throws
        -> LoopbackClient.Answer
    {
        switch self {
        case .http(let client):
            return try await client.click(actionID, value: value, user: user, responseURL: responseURL, messageTS: messageTS)
        case .socketMode(let simulator):
            let payload = LoopbackClient.clickPayload(actionID, value: value, user: user, responseURL: responseURL, messageTS: messageTS)
            return try await Self.acked("interactive", payload, simulator)
        }
    }

    /// A modal submission (view_submission).
    public func submitView(callbackID: String, user: String, privateMetadata: String, values: JSONValue) async throws -> LoopbackClient.Answer {
        switch self {
        case .http(let client):
            return try await client.submitView(callbackID: callbackID, user: user, privateMetadata: privateMetadata, values: values)
        case .socketMode(let simulator):
            let payload = LoopbackClient.viewSubmissionPayload(callbackID: callbackID, user: user, privateMetadata: privateMetadata, values: values)
            return try await Self.acked("interactive", payload, simulator)
        }
    }

    /// A slash command (`/sentry TEXT`): form fields over HTTP, their JSON object in a `slash_commands` envelope.
    public func command(_ text: String, user: String) async throws -> LoopbackClient.Answer {
        switch self {
        case .http(let client):
            return try await client.command(text, user: user)
        case .socketMode(let simulator):
            let fields = LoopbackClient.commandFields(text, user: user)
            return try await Self.acked("slash_commands", .object(Dictionary(uniqueKeysWithValues: fields.map { ($0.0, .string($0.1)) })), simulator)
        }
    }

    /// An Events API callback (`event_callback` with `event`).
    public func event(_ event: JSONValue, id: String) async throws -> LoopbackClient.Answer {
        let callback: JSONValue = ["type": "event_callback", "event_id": .string(id), "team_id": "T0SIMULATED", "event": event]
        switch self {
        case .http(let client):
            return try await client.slack("/slack/events", form: callback.encoded(), contentType: "application/json")
        case .socketMode(let simulator):
            return try await Self.acked("events_api", callback, simulator)
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case notAcked(String)
        public var description: String {
            switch self {
            case .notAcked(let id): "envelope \(id) was not acked within 3 seconds"
            }
        }
    }

    /// Sends an envelope and waits for its ack: a 200 whose body is the ack's payload, as the HTTP body would be.
    static func acked(_ type: String, _ payload: JSONValue, _ simulator: SocketModeSimulator) async throws -> LoopbackClient.Answer {
        let id = try await simulator.send(type, payload: payload, acceptsResponsePayload: true)
        guard await simulator.waitUntil(timeout: .seconds(3), { $0.ack(for: id) != nil }), let ack = simulator.ack(for: id) else {
            throw Failure.notAcked(id)
        }
        return LoopbackClient.Answer(status: 200, body: Array((ack.payload?.encoded() ?? "").utf8))
    }
}
