import Foundation
import SentryCore

/// A complete store in memory: the same contract as `SQLiteAlertStore` (tests run one suite on both), for
/// `sentry simulate`, property tests and anything that needs alerts without a file. Nothing survives the
/// process; everything else behaves as a database would, transactions included.
public final class InMemoryAlertStore: SentryStorage {
    /// What a database would hold, as one value: a transaction works on a copy and commits by replacing it.
    struct Tables {
        struct AlertRow {
            var alert: Alert
            var revision: Int64
            var order: Int
        }

        struct OutboxRow {
            var id: Int64
            var item: OutboxItem
            var state = "pending"
            var attempts = 0
            var nextAttemptAt: Date
            var finishedAt: Date?
            var lastError: String?
            var leasedBy: String?
            var leasedUntil: Date?
        }

        struct ContainmentRow {
            var alertID: String
            var kind: ContainmentAction.Kind
            var target: String
            var status: Containment.Status
            var order: Int
        }

        var alerts: [String: AlertRow] = [:]
        var detections: [String: (alertID: String, at: Date)] = [:]
        var outbox: [OutboxRow] = []
        var outboxKeys: Set<String> = []
        var nextOutboxID: Int64 = 1
        var timers: [String: DueTimer] = [:]
        var audit: [AuditEntry] = []
        var containments: [String: ContainmentRow] = [:]
        var journal: [String: [String: String]] = [:]
        var checkpoints: [String: String] = [:]
        var eventsSeen: [String: Date] = [:]
        var uplinks: [String: UplinkSnapshot] = [:]
        var ruleWindow: [RuleBucket: Int] = [:]
        var ruleFired: Set<String> = []
        var leadership: [String: (holder: String, until: Date)] = [:]
        var sequence = 0

        mutating func nextOrder() -> Int {
            sequence += 1
            return sequence
        }

        static func timerKey(_ alertID: String, _ kind: TimerKind) -> String { alertID + "\u{1F}" + kind.rawValue }
    }

    struct RuleBucket: Hashable {
        var rule: String
        var key: String
        var millis: Int64
    }

    let tables = Locked(Tables())
    /// One transaction at a time, as with one writer connection.
    let gate = AsyncMutex()

    public init() {}

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any AlertTransaction) async throws -> T) async throws -> T {
        try await gate.withLock {
            let transaction = InMemoryTransaction(tables.current)
            let value = try await body(transaction)
            let committed = transaction.tables.current
            tables.withLock { $0 = committed }
            return value
        }
    }

    /// One write outside the engine's transactions, atomic by itself.
    func exclusive<T>(_ change: (inout Tables) throws -> T) async throws -> T {
        try await gate.withLock {
            try tables.withLock { current in
                var copy = current
                let value = try change(&copy)
                current = copy
                return value
            }
        }
    }

    func read<T>(_ value: (Tables) throws -> T) rethrows -> T {
        try value(tables.current)
    }
}

/// The working copy one transaction reads and writes; it replaces the store's tables when the body returns.
final class InMemoryTransaction: AlertTransaction {
    let tables: Locked<InMemoryAlertStore.Tables>

    init(_ tables: InMemoryAlertStore.Tables) {
        self.tables = Locked(tables)
    }

    func alertID(forDetection id: String) async throws -> String? { tables.current.detections[id]?.alertID }

    func recordDetection(_ id: String, alertID: String, now: Date) async throws {
        tables.withLock { $0.detections[id] = (alertID, now) }
    }

    func alert(id: String) async throws -> StoredAlert? {
        tables.current.alerts[id].map { StoredAlert(alert: $0.alert, revision: $0.revision) }
    }

    func groupCandidates(groupKey: String) async throws -> [StoredAlert] {
        tables.current.alerts.values
            .filter { $0.alert.groupKey == groupKey && AlertGrouping.groupable.contains($0.alert.status) }
            .sorted {
                ($0.alert.snooze != nil ? 1 : 0, $0.alert.createdAt, $0.order) > ($1.alert.snooze != nil ? 1 : 0, $1.alert.createdAt, $1.order)
            }
            .map { StoredAlert(alert: $0.alert, revision: $0.revision) }
    }

    func liveContainments(kind: ContainmentAction.Kind, target: String) async throws -> [LiveContainment] {
        InMemoryAlertStore.live(kind: kind, target: target, in: tables.current)
    }

    func write(_ record: TransitionRecord, now: Date) async throws {
        try tables.withLock { tables in
            var next = tables
            if let alert = record.save {
                let stored = next.alerts[alert.id]
                guard stored?.revision == record.expectedRevision else { throw StoreError.revisionConflict(alertID: alert.id) }
                next.alerts[alert.id] = .init(alert: alert, revision: record.nextRevision, order: stored?.order ?? next.nextOrder())
                for item in alert.containments {
                    let order = next.containments[item.id]?.order ?? next.nextOrder()
                    next.containments[item.id] = .init(alertID: alert.id, kind: item.kind, target: item.target, status: item.status, order: order)
                }
            }
            if let audit = record.audit { InMemoryAlertStore.appendAudit(audit, alertID: record.auditAlertID, at: now, to: &next) }
            for change in record.timers {
                switch change {
                case .set(let kind, let due):
                    next.timers[InMemoryAlertStore.Tables.timerKey(record.alertID, kind)] = DueTimer(alertID: record.alertID, kind: kind, dueAt: due)
                case .cancel(let kind):
                    next.timers[InMemoryAlertStore.Tables.timerKey(record.alertID, kind)] = nil
                }
            }
            for item in record.outbox { _ = InMemoryAlertStore.insertOutbox(item, at: now, into: &next) }
            tables = next
        }
    }

    func enqueue(_ item: OutboxItem, now: Date) async throws -> Bool {
        tables.withLock { InMemoryAlertStore.insertOutbox(item, at: now, into: &$0) }
    }

    func finishEffect(_ id: Int64, _ state: EffectState, error: String?, owner: String?, now: Date) async throws {
        let finished = tables.withLock { InMemoryAlertStore.finish(id, state, error: error, owner: owner, now: now, in: &$0) }
        if !finished { throw StoreError.leaseLost(effectID: id) }
    }

    func deleteTimer(alertID: String, kind: TimerKind, dueBy: Date) async throws -> Bool {
        tables.withLock { tables in
            let key = InMemoryAlertStore.Tables.timerKey(alertID, kind)
            guard let timer = tables.timers[key], timer.dueAt <= dueBy else { return false }
            tables.timers[key] = nil
            return true
        }
    }

    func appendAudit(_ record: AuditRecord, alertID: String?, now: Date) async throws {
        tables.withLock { InMemoryAlertStore.appendAudit(record, alertID: alertID, at: now, to: &$0) }
    }

    func recordEvents(source: String, ids: [String], now: Date) async throws {
        tables.withLock { tables in
            for id in ids where tables.eventsSeen[InMemoryAlertStore.eventKey(source, id)] == nil {
                tables.eventsSeen[InMemoryAlertStore.eventKey(source, id)] = now
            }
        }
    }

    func countRuleEvent(rule: String, key: String, at: Double) async throws {
        tables.withLock { $0.ruleWindow[InMemoryAlertStore.RuleBucket(rule: rule, key: key, millis: Int64((at * 1000).rounded())), default: 0] += 1 }
    }

    func recordRuleFired(_ key: String) async throws {
        tables.withLock { _ = $0.ruleFired.insert(key) }
    }
}

extension InMemoryAlertStore {
    static func eventKey(_ source: String, _ id: String) -> String { source + "\u{1F}" + id }

    /// Adds an item unless its idempotency key was used or a pending item holds its coalesce key.
    static func insertOutbox(_ item: OutboxItem, at: Date, into tables: inout Tables) -> Bool {
        if tables.outboxKeys.contains(item.idempotencyKey) { return false }
        if let coalesce = item.coalesceKey, tables.outbox.contains(where: { $0.state == "pending" && $0.item.coalesceKey == coalesce }) {
            return false
        }
        tables.outboxKeys.insert(item.idempotencyKey)
        tables.outbox.append(Tables.OutboxRow(id: tables.nextOutboxID, item: item, nextAttemptAt: at))
        tables.nextOutboxID += 1
        return true
    }

    /// Finishes an effect (with an owner, only while it holds the lease); false when the owner no longer does.
    @discardableResult
    static func finish(_ id: Int64, _ state: EffectState, error: String?, owner: String? = nil, now: Date, in tables: inout Tables) -> Bool {
        guard let index = tables.outbox.firstIndex(where: { $0.id == id }) else { return owner == nil }
        if let owner, tables.outbox[index].state != "pending" || tables.outbox[index].leasedBy != owner { return false }
        tables.outbox[index].leasedBy = nil
        tables.outbox[index].leasedUntil = nil
        tables.outbox[index].state = state.rawValue
        tables.outbox[index].lastError = error
        tables.outbox[index].finishedAt = now
        // Leaving the pending state frees the coalesce key for the next update.
        tables.outbox[index].item.coalesceKey = nil
        return true
    }

    static func appendAudit(_ record: AuditRecord, alertID: String?, at: Date, to tables: inout Tables) {
        tables.audit.append(AuditChain.next(after: tables.audit.last.map { ($0.seq, $0.hash) }, record, alertID: alertID, at: at))
    }

    static func live(kind: ContainmentAction.Kind, target: String, in tables: Tables) -> [LiveContainment] {
        tables.containments
            .filter { $0.value.kind == kind && $0.value.target == target && $0.value.status != .released && $0.value.status != .rejected }
            .sorted { $0.value.order < $1.value.order }
            .map { LiveContainment(containmentID: $0.key, alertID: $0.value.alertID, status: $0.value.status.rawValue) }
    }
}
