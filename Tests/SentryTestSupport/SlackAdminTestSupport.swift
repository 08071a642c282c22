import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryTesting
import Testing

/// A Slack admin simulator on loopback and a real `CurlTransport` to reach it.
public struct SlackAdminHarness {
    public static let token = "xoxp-4242-SECRETADMIN-0123456789abcdef"

    public let simulator: SlackAdminSimulator
    public let app: RunningApplication
    public let transport = CurlTransport()
    public var baseURL: String { "http://127.0.0.1:\(app.port)" }

    /// A client of the simulator; `version` picks `/scim/v1` or `/scim/v2`.
    public func client(
        version: SCIMVersion = .v2,
        token: String = SlackAdminHarness.token,
        sleep: RecordingSleep = RecordingSleep(),
        bucket: TokenBucket = RecordingBucketWaits().bucket(),
        retry: RetryPolicy = .standard,
        logger: Logger = quietLogger
    ) -> SlackAdminClient {
        SlackAdminClient(
            transport: transport, scimBaseURL: "\(baseURL)/scim/\(version.rawValue)", apiBaseURL: "\(baseURL)/api",
            token: token, scimWrites: bucket, retry: retry, requestTimeout: .seconds(5), sleep: sleep.sleep,
            logger: logger)
    }

    public static func path(_ userID: String, _ version: SCIMVersion = .v2) -> String { "/scim/\(version.rawValue)/Users/\(userID)" }
    public static let sessionResetPath = "/api/admin.users.session.reset"
}

/// Runs `body` against a fresh simulator and always stops it.
public func withSlackAdmin(
    users: [SlackAdminSimulator.User] = SlackAdminSimulator.defaultUsers,
    _ body: (SlackAdminHarness) async throws -> Void
) async throws {
    let simulator = SlackAdminSimulator(token: SlackAdminHarness.token, users: users)
    let app = try await RunningApplication.start { simulator.application(onRunning: $0) }
    let world = SlackAdminHarness(simulator: simulator, app: app)
    do {
        try await body(world)
    } catch {
        await app.stop()
        world.transport.shutdown()
        throw error
    }
    await app.stop()
    world.transport.shutdown()
}

/// A write bucket whose waits are recorded and then refused, so a test sees how long a caller would have
/// waited without waiting. Its clock stands still, so that wait is exact however slow the machine is.
public final class RecordingBucketWaits: Sendable {
    public init() {}

    public let clock = ManualClock(waits: .refused)

    public var waits: [Duration] { clock.requestedWaits }

    public func bucket(capacity: Double = 5, refillPerSecond: Double = 3) -> TokenBucket {
        TokenBucket(capacity: capacity, refillPerSecond: refillPerSecond, clock: clock)
    }
}

/// Keeps every log line, rendered with its metadata, for tests that look for what must never be logged.
public final class RecordingLogLines: @unchecked Sendable {
    public init() {}

    private let lock = NSLock()
    private var recorded: [String] = []

    public var lines: [String] { lock.withLock { recorded } }

    public func append(_ line: String) { lock.withLock { recorded.append(line) } }

    public var logger: Logger {
        var logger = Logger(label: "slack-admin-test") { label in RecordingLogHandler(label: label, lines: self) }
        logger.logLevel = .trace
        return logger
    }
}

public struct RecordingLogHandler: LogHandler {
    public let label: String
    public let lines: RecordingLogLines
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.append("\(event.level) \(label) \(event.message) \(rendered) \(event.error.map { "\($0)" } ?? "")")
    }
}
