import Foundation
import HTTPTypes
import Hummingbird
import SentryCore

/// A Slack callback whose origin is already proven: by its signature over HTTP, by the app-level token's socket
/// over Socket Mode. Both transports hand one of these to `SlackController.answer(_:)`, the only handler.
public enum SlackCallback: Sendable, Equatable {
    /// `/sentry …`: the slash command's fields (a form over HTTP, a JSON object over a socket).
    case command(fields: [String: String])
    /// block_actions, view_submission, …: the interactivity payload's JSON.
    case interaction(payload: JSONValue)
    /// The Events API body (`url_verification`, `event_callback`).
    case event(JSONValue)

    /// The three kinds, named as the HTTP endpoints are.
    public enum Kind: String, Sendable, CaseIterable {
        case command, interaction, event
    }

    public var kind: Kind {
        switch self {
        case .command: .command
        case .interaction: .interaction
        case .event: .event
        }
    }

    /// The callback in a verified HTTP body: a form for commands and interactions, JSON for events. A body that
    /// does not decode is the 400 its endpoint answers.
    public static func decode(_ kind: Kind, body: [UInt8]) -> Result<SlackCallback, Refused> {
        switch kind {
        case .command:
            do { return .success(.command(fields: try FormBody.parse(body))) } catch { return .failure(.bad(.badRequest, "\(error)\n")) }
        case .interaction:
            let form: [String: String]
            do { form = try FormBody.parse(body) } catch { return .failure(.bad(.badRequest, "\(error)\n")) }
            guard let raw = form["payload"] else { return .failure(.bad(.badRequest, "missing form field: payload\n")) }
            guard let json = JSONValue.parse(Array(raw.utf8)), json.objectValue != nil else {
                return .failure(.bad(.badRequest, "payload is not a JSON object\n"))
            }
            return .success(.interaction(payload: json))
        case .event:
            guard let json = JSONValue.parse(body), json.objectValue != nil else { return .failure(.bad(.badRequest, "body is not a JSON object\n")) }
            return .success(.event(json))
        }
    }

    /// A body that is no callback of its kind, with the answer its endpoint gives.
    public struct Refused: Error, Equatable {
        public var answer: SlackAnswer

        public init(answer: SlackAnswer) {
            self.answer = answer
        }

        static func bad(_ status: HTTPResponse.Status, _ text: String) -> Refused { Refused(answer: .text(status, text)) }
    }

    /// The `response_url` a late or oversized answer can still be sent to (commands and block actions).
    public var responseURL: String? {
        switch self {
        case .command(let fields): fields["response_url"]
        case .interaction(let payload): payload["response_url"]?.stringValue
        case .event: nil
        }
    }
}

/// What Slack is told about a callback: the HTTP response's status and body, or, over Socket Mode, the ack and
/// its payload (a 200 with a JSON body becomes the ack's `payload`).
public struct SlackAnswer: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case empty
        case json(JSONValue)
        case text(String)
    }

    public var status: HTTPResponse.Status
    public var body: Body

    public init(status: HTTPResponse.Status, body: Body) {
        self.status = status
        self.body = body
    }

    /// A bare 200: over a socket, an ack with no payload.
    public static let ok = SlackAnswer(status: .ok, body: .empty)

    public static func json(_ value: JSONValue) -> SlackAnswer { SlackAnswer(status: .ok, body: .json(value)) }

    public static func text(_ status: HTTPResponse.Status, _ text: String) -> SlackAnswer { SlackAnswer(status: status, body: .text(text)) }

    /// The JSON an ack carries, when the answer has one.
    public var payload: JSONValue? {
        if case .json(let value) = body, status == .ok { return value }
        return nil
    }

    var response: Response {
        switch body {
        case .empty: Response(status: status)
        case .json(let value): .json(status, value)
        case .text(let text): .text(status, text)
        }
    }
}

/// Answers a proven Slack callback; `SlackController` is the one implementation, shared by HTTP and Socket Mode.
public protocol SlackCallbackAnswering: Sendable {
    func answer(_ callback: SlackCallback) async throws -> SlackAnswer
}
