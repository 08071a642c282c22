import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryTesting
import Testing

/// A MerakiSimulator running on loopback for one test.
struct MerakiHarness {
    static let apiKey = "0123456789abcdef0123456789abcdef01234567"
    static let organizationID = "2930418"

    let simulator: MerakiSimulator
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)/api/v1" }

    /// Starts a simulator, runs `body` against it, stops it.
    static func run(_ body: (MerakiHarness) async throws -> Void) async throws {
        let simulator = MerakiSimulator(apiKey: apiKey, organizationID: organizationID)
        let app = try await RunningApplication.start { simulator.application(onRunning: $0) }
        do {
            try await body(MerakiHarness(simulator: simulator, port: app.port))
        } catch {
            await app.stop()
            throw error
        }
        await app.stop()
    }

    func client(
        apiKey: String = MerakiHarness.apiKey,
        budget: any RequestBudget = RecordingMerakiBudget(),
        locks: MerakiNetworkLocks = MerakiNetworkLocks(),
        sleep: RecordingSleep = RecordingSleep(),
        retry: RetryPolicy = .standard,
        logger: Logger = quietLogger
    ) -> MerakiClient {
        MerakiClient(
            transport: CurlTransport(), baseURL: baseURL, apiKey: apiKey, organizationID: Self.organizationID,
            limiter: budget, locks: locks, retry: retry, requestTimeout: .seconds(10), sleep: sleep.sleep, logger: logger)
    }

    static func l3Path(_ networkID: String) -> String {
        "/networks/\(networkID)/appliance/firewall/l3FirewallRules"
    }
}

/// A request budget that never waits and records what it was told.
final class RecordingMerakiBudget: RequestBudget, @unchecked Sendable {
    private let lock = NSLock()
    private var acquired = 0
    private var drained: [Duration] = []

    var acquisitions: Int { lock.withLock { acquired } }
    var drains: [Duration] { lock.withLock { drained } }

    func acquire() async throws {
        lock.withLock { acquired += 1 }
    }

    func drain(for retryAfter: Duration) async {
        lock.withLock { drained.append(retryAfter) }
    }
}

/// Keeps every log line with its metadata, to check what the client writes to logs.
final class RecordingMerakiLog: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []

    var lines: [String] { lock.withLock { recorded } }

    func append(_ line: String) {
        lock.withLock { recorded.append(line) }
    }

    var logger: Logger {
        var logger = Logger(label: "meraki-test") { _ in RecordingMerakiLogHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct RecordingMerakiLogHandler: LogHandler {
    let capture: RecordingMerakiLog
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        capture.append("\(event.level) \(event.message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}

/// Groups the Meraki suites, so `swift test --filter Meraki` selects them.
@Suite enum Meraki {}
