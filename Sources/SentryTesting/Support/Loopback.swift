import Foundation
import Hummingbird
import SentryConnectors
import SentryCore
import SentryServer

/// An application started in a task, with the port it bound; for the demo, the benchmark and tests.
public final class RunningApplication: Sendable {
    public let port: Int
    let task: Task<Void, any Error>

    init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    /// Starts an application and waits until it listens.
    public static func start<App: ApplicationProtocol>(
        _ make: (@escaping @Sendable (Int) async -> Void) async throws -> App
    ) async throws -> RunningApplication {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try await make { port in continuation.yield(port) }
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw CancellationError()
        }
        return RunningApplication(port: port, task: task)
    }

    /// Stops the application (graceful shutdown through task cancellation) and waits for it.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

/// Sends requests to a local Sentry server the way Slack and a detection engine would.
public struct LoopbackClient: Sendable {
    public let baseURL: String
    public let transport: any HTTPTransport
    public let slackSecret: String
    public let clock: any SentryClock

    public init(baseURL: String, transport: any HTTPTransport, slackSecret: String, clock: any SentryClock = SystemClock()) {
        self.baseURL = baseURL
        self.transport = transport
        self.slackSecret = slackSecret
        self.clock = clock
    }

    public struct Answer: Sendable {
        public var status: Int
        public var body: [UInt8]
        /// Lowercased names.
        public var headers: [String: String] = [:]
        public var text: String { String(decoding: body, as: UTF8.self) }
        public var json: JSONValue? { JSONValue.parse(body) }
    }

    public func send(_ method: String = "POST", _ path: String, body: [UInt8] = [], headers: [HTTPHeader] = []) async throws -> Answer {
        let request = SentryConnectors.HTTPRequest(
            method: method, url: baseURL + path, headers: headers, body: method == "GET" ? nil : body, timeout: .seconds(10))
        let response = try await transport.send(request)
        return Answer(status: response.status, body: response.body, headers: response.headers)
    }

    /// Signs a body as Slack does and posts it.
    public func slack(_ path: String, form: String, contentType: String = "application/x-www-form-urlencoded") async throws -> Answer {
        let bytes = Array(form.utf8)
        let timestamp = String(Int(clock.now().timeIntervalSince1970))
        let signature = RequestVerifier(secret: slackSecret).sign(timestamp: timestamp, body: bytes)
        return try await send(
            "POST", path, body: bytes,
            headers: [
                HTTPHeader("Content-Type", contentType), HTTPHeader("X-Slack-Request-Timestamp", timestamp),
                HTTPHeader("X-Slack-Signature", signature),
            ])
    }

    /// A button click on an alert message, as Slack's block_actions payload.
    public func click(
        _ actionID: String, value: String, user: String, responseURL: String, channel: String = "C0SECALERTS", messageTS: String = "1.0"
    ) async throws -> Answer {
        let payload = Self.clickPayload(actionID, value: value, user: user, responseURL: responseURL, channel: channel, messageTS: messageTS)
        return try await slack("/slack/interactivity", form: FormBody.encode([("payload", payload.encoded())]))
    }

    /// The block_actions payload of a button click, for a test that sends it its own way.
    public static func clickPayload(
        _ actionID: String, value: String, user: String, responseURL: String, channel: String = "C0SECALERTS", messageTS: String = "1.0"
    ) -> JSONValue {
        [
            "type": "block_actions",
            "user": ["id": .string(user), "username": .string(user.lowercased()), "team_id": "T0SIMULATED"],
            "api_app_id": "A0SENTRY",
            "trigger_id": "12345.98765.abcd",
            "team": ["id": "T0SIMULATED", "domain": "example"],
            "container": ["type": "message", "message_ts": .string(messageTS), "channel_id": .string(channel), "is_ephemeral": false],
            "channel": ["id": .string(channel), "name": "security-alerts"],
            "message": ["type": "message", "ts": .string(messageTS), "text": "alert"],
            "response_url": .string(responseURL),
            "actions": [
                [
                    "type": "button", "action_id": .string(actionID), "block_id": "alert_actions", "value": .string(value),
                    "text": ["type": "plain_text", "text": "Button"], "action_ts": "1795000000.000100",
                ]
            ],
        ]
    }

    /// A modal submission (`view_submission`) as Slack sends it.
    public func submitView(callbackID: String, user: String, privateMetadata: String, values: JSONValue) async throws -> Answer {
        let payload = Self.viewSubmissionPayload(callbackID: callbackID, user: user, privateMetadata: privateMetadata, values: values)
        return try await slack("/slack/interactivity", form: FormBody.encode([("payload", payload.encoded())]))
    }

    /// The view_submission payload, for a test that sends it its own way (Socket Mode).
    public static func viewSubmissionPayload(callbackID: String, user: String, privateMetadata: String, values: JSONValue) -> JSONValue {
        [
            "type": "view_submission",
            "team": ["id": "T0SIMULATED", "domain": "example"],
            "user": ["id": .string(user), "username": .string(user.lowercased()), "team_id": "T0SIMULATED"],
            "api_app_id": "A0SENTRY",
            "trigger_id": "12345.98765.efgh",
            "view": [
                "id": "V0SIMULATED", "type": "modal", "callback_id": .string(callbackID), "private_metadata": .string(privateMetadata),
                "state": ["values": values], "hash": "1.abc",
            ],
            "response_urls": [],
        ]
    }

    /// A slash command as Slack sends it.
    public func command(_ text: String, user: String, responseURL: String = "https://hooks.slack.com/commands/T0/1/x") async throws -> Answer {
        try await slack("/slack/commands", form: FormBody.encode(Self.commandFields(text, user: user, responseURL: responseURL)))
    }

    /// A slash command's fields, in the order Slack sends them.
    public static func commandFields(_ text: String, user: String, responseURL: String = "https://hooks.slack.com/commands/T0/1/x") -> [(
        String, String
    )] {
        [
            ("command", "/sentry"), ("text", text), ("user_id", user), ("channel_id", "C0SECALERTS"), ("response_url", responseURL),
            ("trigger_id", "1.2.3"),
        ]
    }

    /// A detection webhook authenticated with `SENTRY_WEBHOOK_TOKEN` (`Authorization: Bearer`).
    public func detection(_ body: JSONValue, token: String) async throws -> Answer {
        try await send(
            "POST", "/hooks/detections", body: Array(body.encoded().utf8),
            headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", "Bearer \(token)")])
    }

    /// A detection webhook signed with `SENTRY_WEBHOOK_SECRET`.
    public func detection(_ body: JSONValue, secret: String) async throws -> Answer {
        let bytes = Array(body.encoded().utf8)
        let timestamp = String(Int(clock.now().timeIntervalSince1970))
        let signature = RequestVerifier(secret: secret).sign(timestamp: timestamp, body: bytes)
        return try await send(
            "POST", "/hooks/detections", body: bytes,
            headers: [
                HTTPHeader("Content-Type", "application/json"), HTTPHeader("X-Sentry-Request-Timestamp", timestamp),
                HTTPHeader("X-Sentry-Signature", signature),
            ])
    }
}
