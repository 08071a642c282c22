import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryTesting
import Testing

/// A MerakiSimulator running on loopback for one test.
public struct MerakiHarness {
    public static let apiKey = "0123456789abcdef0123456789abcdef01234567"
    public static let organizationID = "2930418"

    public let simulator: MerakiSimulator
    public let port: Int
    public var baseURL: String { "http://127.0.0.1:\(port)/api/v1" }

    /// Starts a simulator, runs `body` against it, stops it.
    public static func run(_ body: (MerakiHarness) async throws -> Void) async throws {
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

    public func client(
        apiKey: String = MerakiHarness.apiKey,
        budget: any RequestBudget = RecordingBudget(),
        locks: MerakiNetworkLocks = MerakiNetworkLocks(),
        sleep: RecordingSleep = RecordingSleep(),
        retry: RetryPolicy = .standard,
        logger: Logger = quietLogger
    ) -> MerakiClient {
        MerakiClient(
            transport: CurlTransport(), baseURL: baseURL, apiKey: apiKey, organizationID: Self.organizationID,
            limiter: budget, locks: locks, retry: retry, requestTimeout: .seconds(10), sleep: sleep.sleep, logger: logger)
    }

    public static func l3Path(_ networkID: String) -> String {
        "/networks/\(networkID)/appliance/firewall/l3FirewallRules"
    }
}

/// Keeps every log line with its metadata, to check what the client writes to logs.
public final class RecordingMerakiLog: @unchecked Sendable {
    public init() {}

    private let lock = NSLock()
    private var recorded: [String] = []

    public var lines: [String] { lock.withLock { recorded } }

    public func append(_ line: String) {
        lock.withLock { recorded.append(line) }
    }

    public var logger: Logger {
        var logger = Logger(label: "meraki-test") { _ in RecordingMerakiLogHandler(capture: self) }
        logger.logLevel = .trace
        return logger
    }
}

public struct RecordingMerakiLogHandler: LogHandler {
    public let capture: RecordingMerakiLog
    public var logLevel: Logger.Level = .trace
    public var metadata: Logger.Metadata = [:]

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        capture.append("\(event.level) \(event.message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
    }
}
