import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryDetect
import SentryStore

/// Reports and times shared by the uplink suites.
public enum UplinkFixtures {
    public static let t0 = Date(timeIntervalSince1970: 1_790_000_000)
    public static let mx = "Q234-ABCD-5678"
    public static let network = "N_24329156"

    public static func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

    public static func uplink(_ interface: String, _ status: String?, publicIP: String?, ip: String? = "10.0.0.2") -> UplinkReport.Uplink {
        UplinkReport.Uplink(interface: interface, status: status, ip: ip, publicIP: publicIP)
    }

    /// An MX with `wan1` and `cellular`, as in `getOrganizationApplianceUplinkStatuses.response.json`.
    public static func mx(
        at reportedAt: Date?, serial: String = mx, wan1: String? = "active", wan1IP: String? = "203.0.113.1", cellular: String? = "ready",
        cellularIP: String? = "198.51.100.9"
    ) -> UplinkReport {
        UplinkReport(
            serial: serial, networkID: network, lastReportedAt: reportedAt,
            uplinks: [uplink("wan1", wan1, publicIP: wan1IP), uplink("cellular", cellular, publicIP: cellularIP, ip: "100.64.0.2")])
    }
}

/// A source that answers what the test last set, or fails as told; counts calls.
public final class FakeUplinkSource: UplinkStatusSource, @unchecked Sendable {
    private let lock = NSLock()
    private var answer: Result<[UplinkReport], any Error>
    private var count = 0

    public init(_ reports: [UplinkReport] = []) { answer = .success(reports) }

    public var calls: Int { lock.withLock { count } }

    public func set(_ reports: [UplinkReport]) { lock.withLock { answer = .success(reports) } }
    public func fail(with error: any Error) { lock.withLock { answer = .failure(error) } }

    public func uplinkReports() async throws -> [UplinkReport] {
        try lock.withLock {
            count += 1
            return try answer.get()
        }
    }
}

/// Keeps every delivery; refuses them while `refusing` is set.
public final class RecordingUplinkSink: EventSink, @unchecked Sendable {
    public init() {}

    public struct Refused: Error {}

    private let lock = NSLock()
    private var batches: [[SecurityEvent]] = []
    private var refuse = false

    public var deliveries: [[SecurityEvent]] { lock.withLock { batches } }
    public var events: [SecurityEvent] { deliveries.flatMap { $0 } }
    public var refusing: Bool {
        get { lock.withLock { refuse } }
        set { lock.withLock { refuse = newValue } }
    }

    public func deliver(_ events: [SecurityEvent]) async throws {
        try lock.withLock {
            if refuse { throw Refused() }
            batches.append(events)
        }
    }
}

/// A working store whose next snapshot saves fail, to stand in for a crash between delivery and save.
public final class UplinkSaveFailingStore: DetectorStore, @unchecked Sendable {
    public struct SaveFailed: Error {}

    public let inner: SQLiteAlertStore
    private let lock = NSLock()
    private var failures: Int

    public init(_ inner: SQLiteAlertStore, failSaves: Int) {
        self.inner = inner
        self.failures = failSaves
    }

    public func checkpoint(_ name: String) async throws -> String? { try await inner.checkpoint(name) }
    public func setCheckpoint(_ name: String, _ value: String, now: Date) async throws { try await inner.setCheckpoint(name, value, now: now) }
    public func firstSeen(source: String, ids: [String], now: Date) async throws -> Set<String> {
        try await inner.firstSeen(source: source, ids: ids, now: now)
    }
    public func unseen(source: String, ids: [String]) async throws -> Set<String> { try await inner.unseen(source: source, ids: ids) }
    public func uplinkSnapshots() async throws -> [String: UplinkSnapshot] { try await inner.uplinkSnapshots() }
    public func ruleState(since: Date) async throws -> RuleEngine.State { try await inner.ruleState(since: since) }

    public func saveUplinkSnapshots(_ snapshots: [UplinkSnapshot], removing gone: [String]) async throws {
        let fail = lock.withLock { () -> Bool in
            guard failures > 0 else { return false }
            failures -= 1
            return true
        }
        if fail { throw SaveFailed() }
        try await inner.saveUplinkSnapshots(snapshots, removing: gone)
    }
}

/// Answers queued responses in order (the last one again when the queue runs dry) and records the requests.
public final class FakeUplinkTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var queue: [HTTPResponse]
    private var sent: [HTTPRequest] = []

    public init(_ responses: [HTTPResponse]) { queue = responses }

    public var requests: [HTTPRequest] { lock.withLock { sent } }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock {
            sent.append(request)
            return queue.count > 1 ? queue.removeFirst() : queue[0]
        }
    }
}
