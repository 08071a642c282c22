import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryDetect
import SentryStore

/// Reports and times shared by the uplink suites.
enum UplinkFixtures {
    static let t0 = Date(timeIntervalSince1970: 1_790_000_000)
    static let mx = "Q234-ABCD-5678"
    static let network = "N_24329156"

    static func at(_ seconds: TimeInterval) -> Date { t0.addingTimeInterval(seconds) }

    static func uplink(_ interface: String, _ status: String?, publicIP: String?, ip: String? = "10.0.0.2") -> UplinkReport.Uplink {
        UplinkReport.Uplink(interface: interface, status: status, ip: ip, publicIP: publicIP)
    }

    /// An MX with `wan1` and `cellular`, as in `getOrganizationApplianceUplinkStatuses.response.json`.
    static func mx(
        at reportedAt: Date?, serial: String = mx, wan1: String? = "active", wan1IP: String? = "203.0.113.1", cellular: String? = "ready",
        cellularIP: String? = "198.51.100.9"
    ) -> UplinkReport {
        UplinkReport(
            serial: serial, networkID: network, lastReportedAt: reportedAt,
            uplinks: [uplink("wan1", wan1, publicIP: wan1IP), uplink("cellular", cellular, publicIP: cellularIP, ip: "100.64.0.2")])
    }
}

/// A source that answers what the test last set, or fails as told; counts calls.
final class FakeUplinkSource: UplinkStatusSource, @unchecked Sendable {
    private let lock = NSLock()
    private var answer: Result<[UplinkReport], any Error>
    private var count = 0

    init(_ reports: [UplinkReport] = []) { answer = .success(reports) }

    var calls: Int { lock.withLock { count } }

    func set(_ reports: [UplinkReport]) { lock.withLock { answer = .success(reports) } }
    func fail(with error: any Error) { lock.withLock { answer = .failure(error) } }

    func uplinkReports() async throws -> [UplinkReport] {
        try lock.withLock {
            count += 1
            return try answer.get()
        }
    }
}

/// Keeps every delivery; refuses them while `refusing` is set.
final class RecordingUplinkSink: EventSink, @unchecked Sendable {
    struct Refused: Error {}

    private let lock = NSLock()
    private var batches: [[SecurityEvent]] = []
    private var refuse = false

    var deliveries: [[SecurityEvent]] { lock.withLock { batches } }
    var events: [SecurityEvent] { deliveries.flatMap { $0 } }
    var refusing: Bool {
        get { lock.withLock { refuse } }
        set { lock.withLock { refuse = newValue } }
    }

    func deliver(_ events: [SecurityEvent]) async throws {
        try lock.withLock {
            if refuse { throw Refused() }
            batches.append(events)
        }
    }
}

/// A working store whose next snapshot saves fail, to stand in for a crash between delivery and save.
final class UplinkSaveFailingStore: DetectorStore, @unchecked Sendable {
    struct SaveFailed: Error {}

    let inner: SQLiteAlertStore
    private let lock = NSLock()
    private var failures: Int

    init(_ inner: SQLiteAlertStore, failSaves: Int) {
        self.inner = inner
        self.failures = failSaves
    }

    func checkpoint(_ name: String) async throws -> String? { try await inner.checkpoint(name) }
    func setCheckpoint(_ name: String, _ value: String, now: Date) async throws { try await inner.setCheckpoint(name, value, now: now) }
    func firstSeen(source: String, ids: [String], now: Date) async throws -> Set<String> {
        try await inner.firstSeen(source: source, ids: ids, now: now)
    }
    func unseen(source: String, ids: [String]) async throws -> Set<String> { try await inner.unseen(source: source, ids: ids) }
    func uplinkSnapshots() async throws -> [String: UplinkSnapshot] { try await inner.uplinkSnapshots() }
    func ruleState(since: Date) async throws -> RuleEngine.State { try await inner.ruleState(since: since) }

    func saveUplinkSnapshots(_ snapshots: [UplinkSnapshot], removing gone: [String]) async throws {
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
final class FakeUplinkTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var queue: [HTTPResponse]
    private var sent: [HTTPRequest] = []

    init(_ responses: [HTTPResponse]) { queue = responses }

    var requests: [HTTPRequest] { lock.withLock { sent } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock {
            sent.append(request)
            return queue.count > 1 ? queue.removeFirst() : queue[0]
        }
    }
}

/// A request budget that never waits.
struct UnlimitedUplinkBudget: RequestBudget {
    func acquire() async throws {}
    func drain(for retryAfter: Duration) async {}
}

let uplinkTestLogger: Logger = {
    var logger = Logger(label: "uplink-test")
    logger.logLevel = .critical
    return logger
}()
