import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

/// The real `SlackController` behind a recorder: which callbacks reached the one handler, and how often.
final class RecordingAnswerer: SlackCallbackAnswering {
    let base: any SlackCallbackAnswering
    /// Added before each answer: a slow look-up.
    let delay: Duration
    let seen = Locked<[SlackCallback]>([])

    init(_ base: any SlackCallbackAnswering, delay: Duration = .zero) {
        self.base = base
        self.delay = delay
    }

    func answer(_ callback: SlackCallback) async throws -> SlackAnswer {
        seen.withLock { $0.append(callback) }
        if delay > .zero { try await Task.sleep(for: delay) }
        return try await base.answer(callback)
    }

    var eventIDs: [String] { seen.current.compactMap { if case .event(let body) = $0 { body["event_id"]?.stringValue } else { nil } } }
}

/// A Sentry server (HTTP harness), the loopback Socket Mode fake and a `SocketModeClient` between them.
final class SocketModeHarness: Sendable {
    static let appToken = "xapp-1-A0SENTRY-1-test-not-real"

    let http: ServerHarness
    let socket: SocketModeSimulator
    let socketApp: RunningApplication
    let client: SocketModeClient
    let answerer: RecordingAnswerer
    let task: Task<Void, Never>

    init(
        connections: Int = 2, delay: Duration = .zero, environment: [String: String] = [:],
        settings tweak: (inout SocketModeSettings) -> Void = { _ in }, clock: (any SentryClock)? = nil,
        logger: Logger? = nil, before: (SocketModeSimulator) -> Void = { _ in }
    ) async throws {
        http = try await ServerHarness(environment: environment)
        socket = SocketModeSimulator(appToken: Self.appToken)
        let socket = self.socket
        before(socket)
        socketApp = try await RunningApplication.start { socket.application(onRunning: $0) }
        let logger = logger ?? Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        var settings = SocketModeSettings(connections: connections)
        settings.initialBackoff = .milliseconds(20)
        settings.maxBackoff = .milliseconds(200)
        settings.closeTimeout = .milliseconds(300)
        tweak(&settings)
        answerer = RecordingAnswerer(SlackController(context: http.server.context), delay: delay)
        // With a clock, the opener's own Retry-After waits and holds are on it too (as `sentry serve`'s share the system's).
        let sleep: @Sendable (Duration) async throws -> Void
        if let clock { sleep = { try await clock.sleep(for: $0) } } else { sleep = { _ in } }
        let opener = SlackClient(
            transport: http.transport, baseURL: "http://127.0.0.1:\(socketApp.port)/api", token: Self.appToken, sleep: sleep,
            rateLimits: SlackRateLimitHold(clock: clock ?? SystemClock()), logger: logger)
        let bot = SlackClient(
            transport: http.transport, baseURL: "\(http.slackURL)/api", token: ServerHarness.botToken, sleep: { _ in }, logger: logger)
        client = SocketModeClient(
            opener: opener, answerer: answerer, slack: bot, settings: settings, metrics: http.metrics,
            status: http.server.context.socketMode ?? SocketModeStatus(), clock: clock ?? SystemClock(), logger: logger)
        let client = self.client
        task = Task { await client.runConnections() }
    }

    func stop() async {
        task.cancel()
        await task.value
        await socketApp.stop()
        await http.stop()
    }

    /// Waits until `count` sockets have said hello.
    func connected(_ count: Int) async -> Bool {
        await eventually { self.client.status.openSockets == count && self.socket.openConnections.count == count }
    }

    static func appMention(eventID: String, channel: String = ServerHarness.channel) -> JSONValue {
        [
            "token": "unused", "team_id": "T0SIMULATED", "api_app_id": "A0SENTRY", "type": "event_callback", "event_id": .string(eventID),
            "event_time": 1_795_000_000, "authorizations": [["team_id": "T0SIMULATED", "user_id": "U0SENTRYBOT", "is_bot": true]],
            "event": [
                "type": "app_mention", "user": .string(ServerHarness.alice), "text": "<@U0SENTRYBOT> status", "channel": .string(channel),
                "ts": "1.0",
            ],
        ]
    }

    static func commandPayload(_ text: String, responseURL: String) -> JSONValue {
        .object(
            Dictionary(
                uniqueKeysWithValues: LoopbackClient.commandFields(text, user: ServerHarness.alice, responseURL: responseURL).map {
                    ($0.0, JSONValue.string($0.1))
                }))
    }
}

/// Runs a body with a Socket Mode harness and always stops it.
func withSocketMode(
    connections: Int = 2, delay: Duration = .zero, environment: [String: String] = [:], settings: (inout SocketModeSettings) -> Void = { _ in },
    clock: (any SentryClock)? = nil, logger: Logger? = nil, before: (SocketModeSimulator) -> Void = { _ in },
    _ body: (SocketModeHarness) async throws -> Void
) async throws {
    let harness = try await SocketModeHarness(
        connections: connections, delay: delay, environment: environment, settings: settings, clock: clock, logger: logger, before: before)
    do {
        try await body(harness)
    } catch {
        await harness.stop()
        throw error
    }
    await harness.stop()
}
