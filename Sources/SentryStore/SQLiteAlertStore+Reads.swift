import Foundation
import GRDB
import GRDBSQLite
import SentryCore

extension SQLiteAlertStore {
    // MARK: Reads

    public func alert(id: String) async throws -> Alert? {
        try await read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT body FROM alert WHERE id = ?"), arguments: [id]).map(Self.decodeAlert)
        }
    }

    public func alerts(statuses: [AlertStatus], limit: Int) async throws -> [Alert] {
        try await read { db in
            let marks = Array(repeating: "?", count: statuses.count).joined(separator: ",")
            var arguments = StatementArguments(statuses.map(\.rawValue))
            arguments += [limit]
            return try String.fetchAll(
                db.cachedStatement(sql: "SELECT body FROM alert WHERE status IN (\(marks)) ORDER BY created_at DESC LIMIT ?"), arguments: arguments
            ).map(Self.decodeAlert)
        }
    }

    public func alertCount(createdSince since: Date) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM alert WHERE created_at >= ?"), arguments: [since.timeIntervalSince1970])
                ?? 0
        }
    }

    public func alertCount(statuses: [AlertStatus]) async throws -> Int {
        try await read { db in
            let marks = Array(repeating: "?", count: statuses.count).joined(separator: ",")
            return try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COUNT(*) FROM alert WHERE status IN (\(marks))"),
                arguments: StatementArguments(statuses.map(\.rawValue))) ?? 0
        }
    }

    public func alertsHoldingActiveContainments(limit: Int) async throws -> [Alert] {
        try await read { db in
            try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT body FROM alert WHERE id IN (SELECT alert_id FROM containment WHERE status = 'active')
                        ORDER BY created_at DESC LIMIT ?
                        """), arguments: [limit]
            ).map(Self.decodeAlert)
        }
    }

    public func alerts(withTimer kind: TimerKind, limit: Int) async throws -> [Alert] {
        try await read { db in
            try String.fetchAll(
                db.cachedStatement(
                    sql: "SELECT a.body FROM timer t JOIN alert a ON a.id = t.alert_id WHERE t.kind = ? ORDER BY t.due_at, a.id LIMIT ?"),
                arguments: [kind.rawValue, limit]
            ).map(Self.decodeAlert)
        }
    }

    public func timers(alertID: String) async throws -> [DueTimer] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT kind, due_at FROM timer WHERE alert_id = ? ORDER BY kind"), arguments: [alertID])
                .compactMap { row in
                    TimerKind(rawValue: row["kind"]).map { DueTimer(alertID: alertID, kind: $0, dueAt: Date(timeIntervalSince1970: row["due_at"])) }
                }
        }
    }

    // MARK: Containments

    public func activeContainmentCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM containment WHERE status = 'active'")) ?? 0 }
    }

    public func alertID(forContainment id: String) async throws -> String? {
        try await read { db in try String.fetchOne(db.cachedStatement(sql: "SELECT alert_id FROM containment WHERE id = ?"), arguments: [id]) }
    }

    public func liveContainments(kind: ContainmentAction.Kind, target: String) async throws -> [LiveContainment] {
        try await read { db in try Self.liveContainments(kind: kind, target: target, in: db) }
    }

    // MARK: Audit

    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?"), arguments: [seq, limit]).map { row in
                AuditEntry(
                    seq: row["seq"], at: Date(timeIntervalSince1970: row["at"]), alertID: row["alert_id"], actor: row["actor"],
                    action: row["action"], detail: row["detail"], prevHash: row["prev_hash"], hash: row["hash"])
            }
        }
    }

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db.cachedStatement(sql: "SELECT 1")) }
    }

    /// Runs raw SQL; for tests that tamper with rows on purpose.
    public func unsafeExecute(_ sql: String) async throws {
        try await exclusive { db in try db.execute(sql: sql) }
    }

    public func gauges() async throws -> StoreGauges {
        try await read { db in
            var gauges = StoreGauges()
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT status, COUNT(*) AS n FROM alert GROUP BY status")) {
                if let status = AlertStatus(rawValue: row["status"]) { gauges.alertsByStatus[status] = row["n"] }
            }
            for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT kind, status, COUNT(*) AS n FROM containment GROUP BY kind, status")) {
                if let kind = ContainmentAction.Kind(rawValue: row["kind"]), let status = Containment.Status(rawValue: row["status"]) {
                    gauges.containments[kind, default: [:]][status] = row["n"]
                }
            }
            for row in try Row.fetchAll(
                db.cachedStatement(sql: "SELECT state, COUNT(*) AS n FROM outbox WHERE state IN ('pending', 'failed') GROUP BY state"))
            {
                let n: Int = row["n"]
                if row["state"] == "pending" { gauges.outboxPending = n } else { gauges.outboxFailed = n }
            }
            gauges.storageMemoryBytes = Int(sqlite3_memory_used())
            return gauges
        }
    }

    // MARK: Coding

    static func encodeAlert(_ alert: Alert) throws -> String { try StoredJSON.encode(alert) }

    static func decodeAlert(_ text: String) throws -> Alert { try StoredJSON.decode(Alert.self, text) }

    static func encodeEffect(_ effect: AlertEffect) throws -> String { try StoredJSON.encode(effect) }

    static func decodeEffect(_ text: String) throws -> AlertEffect { try StoredJSON.decode(AlertEffect.self, text) }

    static func decodeEntry(_ row: Row) throws -> OutboxEntry {
        OutboxEntry(
            id: row["id"], alertID: row["alert_id"], effect: try decodeEffect(row["effect"]), attempts: row["attempts"],
            idempotencyKey: row["idempotency_key"], state: row["state"], lastError: row["last_error"])
    }
}

/// A small cache of decoded alerts keyed by id and revision.
final class DecodedAlerts: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (revision: Int64, alert: Alert)] = [:]
    private let capacity = 4_096

    func get(_ id: String, revision: Int64) -> Alert? {
        lock.withLock {
            guard let entry = entries[id], entry.revision == revision else { return nil }
            return entry.alert
        }
    }

    func removeAll() {
        lock.withLock { entries.removeAll() }
    }

    func put(_ id: String, revision: Int64, alert: Alert) {
        lock.withLock {
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[id] = (revision, alert)
        }
    }
}
