import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryDetect
import SentryServer
import SentryStore
import SentryTesting
import Testing

/// An Audit Logs simulator on loopback and a real `CurlTransport` to reach it.
public struct SlackAuditHarness {
    public static let token = "xoxp-4242-SECRETAUDIT-0123456789abcdef"

    public let simulator: AuditLogsSimulator
    public let app: RunningApplication
    public let transport = CurlTransport()
    public var baseURL: String { "http://127.0.0.1:\(app.port)/audit/v1" }

    public func client(
        token: String = SlackAuditHarness.token,
        sleep: RecordingSleep = RecordingSleep(),
        budget: RecordingBudget = RecordingBudget(),
        retry: RetryPolicy = .standard,
        logger: Logger = quietLogger
    ) -> SlackAuditClient {
        SlackAuditClient(
            transport: transport, baseURL: baseURL, token: token, budget: budget, retry: retry, requestTimeout: .seconds(5),
            sleep: sleep.sleep, logger: logger)
    }
}

/// Runs `body` against a fresh simulator and always stops it.
public func withAuditLogs(_ body: (SlackAuditHarness) async throws -> Void) async throws {
    let simulator = AuditLogsSimulator(token: SlackAuditHarness.token)
    let app = try await RunningApplication.start { simulator.application(onRunning: $0) }
    let world = SlackAuditHarness(simulator: simulator, app: app)
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

/// An event sink that keeps every delivery, or refuses while told to.
public final class RecordingSlackAuditSink: EventSink, @unchecked Sendable {
    public init() {}

    public struct Refused: Error {}

    private let lock = NSLock()
    private var batches: [[SecurityEvent]] = []
    private var refusing = false

    public var deliveries: [[SecurityEvent]] { lock.withLock { batches } }
    public var events: [SecurityEvent] { deliveries.flatMap { $0 } }
    public var ids: [String] { events.map(\.id) }

    public func refuse(_ value: Bool) { lock.withLock { refusing = value } }

    public func deliver(_ events: [SecurityEvent]) async throws {
        try lock.withLock {
            if refusing { throw Refused() }
            batches.append(events)
        }
    }
}

public enum SlackAuditFixtures {
    public static let t0: Int64 = 1_795_000_000

    public static func sample(_ name: String) throws -> [UInt8] {
        try CoreFixtures.sharedBytes("specs/slack/samples/audit_logs/\(name)")
    }

    public static func download(_ id: String, at: Int64, user: String = "W0ALICE01", ip: String = "203.0.113.7") -> JSONValue {
        AuditLogsSimulator.entry(id: id, action: "file_downloaded", at: at, user: user, ip: ip, file: (id: "F\(id)", name: "payroll-\(id).xlsx"))
    }

    public static func collector(
        _ world: SlackAuditHarness,
        store: any DetectorStore,
        sink: RecordingSlackAuditSink,
        clock: ManualClock = ManualClock(Date(timeIntervalSince1970: TimeInterval(t0 + 60))),
        pageSize: Int = 1_000,
        retry: RetryPolicy = .standard
    ) -> SlackAuditCollector {
        SlackAuditCollector(
            source: world.client(retry: retry), store: store, sink: sink,
            configuration: .init(interval: .seconds(60), overlap: .seconds(120), initialLookback: .seconds(3_600), pageSize: pageSize),
            clock: clock, logger: quietLogger)
    }
}
