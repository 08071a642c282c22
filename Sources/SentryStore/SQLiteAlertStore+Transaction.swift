import Foundation
import GRDB
import SentryCore

/// The engine's view of one open SQLite transaction: every step runs on the writer connection, which the
/// transaction holds until it commits or rolls back.
final class SQLiteTransaction: AlertTransaction, @unchecked Sendable {
    private let store: SQLiteAlertStore
    /// The earlier steps of the same group commit, when there are any (`CommitQueue`).
    private let batch: BatchAlerts?
    /// Alerts this step wrote, to remember as decoded once they are committed (only what was committed may be cached).
    private(set) var written: [(id: String, revision: Int64, alert: Alert)] = []
    /// The last audit entry this step appended, for the next append and, once committed, the store.
    private(set) var auditTail: AuditEntry?

    init(store: SQLiteAlertStore, batch: BatchAlerts?) {
        self.store = store
        self.batch = batch
    }

    private func known(_ id: String, revision: Int64) -> Alert? {
        if let mine = written.last(where: { $0.id == id }), mine.revision == revision { return mine.alert }
        return batch?.get(id, revision: revision) ?? store.decoded.get(id, revision: revision)
    }

    /// The alert row `id` at `revision`, decoded once. What this transaction (or its batch) wrote is known, so a
    /// row found nowhere else is committed, and may be cached.
    private func stored(_ id: String, revision: Int64, in db: Database) throws -> StoredAlert? {
        if let cached = known(id, revision: revision) { return StoredAlert(alert: cached, revision: revision) }
        var select = try BoundStatement(db, sql: "SELECT body FROM alert WHERE id = ?")
        select.bind(id)
        guard let body = try select.first({ try $0.string(0) }) else { return nil }
        let alert = try SQLiteAlertStore.decodeAlert(body)
        store.decoded.put(id, revision: revision, alert: alert)
        return StoredAlert(alert: alert, revision: revision)
    }

    func run<T>(_ body: (Database) throws -> T) throws -> T {
        try store.onWriter(body)
    }

    func alertID(forDetection id: String) async throws -> String? {
        try run { db in
            var select = try BoundStatement(db, sql: "SELECT alert_id FROM detection_seen WHERE id = ?")
            select.bind(id)
            return try select.first { try $0.string(0) }
        }
    }

    func recordDetection(_ id: String, alertID: String, now: Date) async throws {
        try run { db in
            var insert = try BoundStatement(db, sql: "INSERT INTO detection_seen (id, alert_id, received_at) VALUES (?, ?, ?)")
            insert.bind(id)
            insert.bind(alertID)
            insert.bind(now.timeIntervalSince1970)
            try insert.execute()
        }
    }

    func alert(id: String) async throws -> StoredAlert? {
        try run { db in
            var select = try BoundStatement(db, sql: "SELECT revision FROM alert WHERE id = ?")
            select.bind(id)
            guard let revision = try select.first({ try $0.int64(0) }) else { return nil }
            return try stored(id, revision: revision, in: db)
        }
    }

    func groupCandidates(groupKey: String) async throws -> [StoredAlert] {
        try run { db in
            // Ids and revisions first: a candidate already decoded at that revision is not decoded again.
            var select = try BoundStatement(
                db,
                sql: """
                    SELECT id, revision FROM alert
                    WHERE group_key = ? AND status IN ('open', 'acknowledged')
                    ORDER BY json_extract(body, '$.snooze') IS NOT NULL DESC, created_at DESC LIMIT 16
                    """)
            select.bind(groupKey)
            let rows = try select.rows { (id: try $0.string(0), revision: try $0.int64(1)) }
            return try rows.compactMap { row in try stored(row.id, revision: row.revision, in: db) }
        }
    }

    func liveContainments(kind: ContainmentAction.Kind, target: String) async throws -> [LiveContainment] {
        try run { db in try SQLiteAlertStore.liveContainments(kind: kind, target: target, in: db) }
    }

    func write(_ record: TransitionRecord, now: Date) async throws {
        try run { db in
            let at = now.timeIntervalSince1970
            if let alert = record.save {
                // The body as `StoredJSON.encode(alert)` writes it, bound from its bytes.
                let body = try alert.storedJSON()
                if let expected = record.expectedRevision {
                    var update = try BoundStatement(db, sql: SQLiteAlertStore.updateAlertSQL)
                    update.bind(alert.status.rawValue)
                    update.bind(at)
                    update.bind(record.nextRevision)
                    update.bind(utf8: body)
                    SQLiteAlertStore.bindStats(alert, to: &update)
                    update.bind(alert.id)
                    update.bind(expected)
                    try update.execute()
                    guard db.changesCount == 1 else { throw StoreError.revisionConflict(alertID: alert.id) }
                } else {
                    var insert = try BoundStatement(db, sql: SQLiteAlertStore.insertAlertSQL)
                    insert.bind(alert.id)
                    insert.bind(alert.groupKey)
                    insert.bind(alert.status.rawValue)
                    insert.bind(alert.groupUntil.timeIntervalSince1970)
                    insert.bind(alert.createdAt.timeIntervalSince1970)
                    insert.bind(at)
                    insert.bind(record.nextRevision)
                    insert.bind(utf8: body)
                    SQLiteAlertStore.bindStats(alert, to: &insert)
                    try insert.execute()
                    guard db.changesCount == 1 else { throw StoreError.revisionConflict(alertID: alert.id) }
                }
                for item in alert.containments {
                    try db.cachedStatement(sql: "INSERT OR REPLACE INTO containment (id, alert_id, kind, target, status) VALUES (?, ?, ?, ?, ?)")
                        .execute(arguments: [item.id, alert.id, item.kind.rawValue, item.target, item.status.rawValue])
                }
                written.append((alert.id, record.nextRevision, alert))
            }
            if let audit = record.audit { try append(audit, alertID: record.auditAlertID, now: now, in: db) }
            for change in record.timers {
                switch change {
                case .set(let kind, let due):
                    try db.cachedStatement(sql: "INSERT OR REPLACE INTO timer (alert_id, kind, due_at) VALUES (?, ?, ?)").execute(arguments: [
                        record.alertID, kind.rawValue, due.timeIntervalSince1970,
                    ])
                case .cancel(let kind):
                    try db.cachedStatement(sql: "DELETE FROM timer WHERE alert_id = ? AND kind = ?").execute(arguments: [
                        record.alertID, kind.rawValue,
                    ])
                }
            }
            for item in record.outbox { try SQLiteAlertStore.insertOutbox(item, at: at, in: db) }
        }
    }

    func enqueue(_ item: OutboxItem, now: Date) async throws -> Bool {
        try run { db in
            try SQLiteAlertStore.insertOutbox(item, at: now.timeIntervalSince1970, in: db)
            return db.changesCount > 0
        }
    }

    func finishEffect(_ id: Int64, _ state: EffectState, error: String?, owner: String?, now: Date) async throws {
        try run { db in
            guard try SQLiteAlertStore.finish(id, state: state, error: error, owner: owner, now: now, in: db) else {
                throw StoreError.leaseLost(effectID: id)
            }
        }
    }

    func deleteTimer(alertID: String, kind: TimerKind, dueBy: Date) async throws -> Bool {
        try run { db in
            try db.cachedStatement(sql: "DELETE FROM timer WHERE alert_id = ? AND kind = ? AND due_at <= ?").execute(
                arguments: [alertID, kind.rawValue, dueBy.timeIntervalSince1970])
            return db.changesCount > 0
        }
    }

    func appendAudit(_ record: AuditRecord, alertID: String?, now: Date) async throws {
        try run { db in try append(record, alertID: alertID, now: now, in: db) }
    }

    /// After the tail this step, its batch or the store's last COMMIT left.
    private func append(_ record: AuditRecord, alertID: String?, now: Date, in db: Database) throws {
        let known = auditTail ?? batch?.auditTail ?? store.auditTail.withLock { $0 }
        auditTail = try SQLiteAlertStore.appendAudit(record, alertID: alertID, at: now, after: known, in: db)
    }

    func recordEvents(source: String, ids: [String], now: Date) async throws {
        try run { db in
            for id in ids {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO event_seen (source, id, at) VALUES (?, ?, ?)").execute(arguments: [
                    source, id, now.timeIntervalSince1970,
                ])
            }
        }
    }

    func countRuleEvent(rule: String, key: String, at: Double) async throws {
        try run { db in
            var upsert = try BoundStatement(
                db,
                sql:
                    "INSERT INTO rule_window (rule, key, bucket, count) VALUES (?, ?, ?, 1) ON CONFLICT(rule, key, bucket) DO UPDATE SET count = count + 1"
            )
            upsert.bind(rule)
            upsert.bind(key)
            upsert.bind(Int64((at * 1000).rounded()))
            try upsert.execute()
        }
    }

    func recordRuleFired(_ key: String) async throws {
        try run { db in
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO rule_fired (rule, key, period) VALUES (?, '', 0)").execute(arguments: [key])
        }
    }
}

extension SQLiteAlertStore {
    static func insertOutbox(_ item: OutboxItem, at: Double, in db: Database) throws {
        // A pending update of the same alert already renders the latest state: coalesce into it.
        var insert = try BoundStatement(
            db,
            sql: """
                INSERT OR IGNORE INTO outbox (alert_id, effect, coalesce_key, idempotency_key, next_attempt_at, created_at, ordered)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
        insert.bind(item.alertID)
        // The effect as `StoredJSON.encode(effect)` writes it, bound from its bytes.
        insert.bind(utf8: try item.effect.storedJSON())
        insert.bind(item.coalesceKey)
        insert.bind(item.idempotencyKey)
        insert.bind(at)
        insert.bind(at)
        insert.bind(Int64(item.ordered ? 1 : 0))
        try insert.execute()
    }

    /// Appends after `known` (nil: read the tail) and returns the new entry. A stale `known` (someone else
    /// appended since) fails on the `seq` primary key, the INSERT alone is undone, and the entry is chained after
    /// the tail read afresh.
    static func appendAudit(_ record: AuditRecord, alertID: String?, at: Date, after known: AuditEntry?, in db: Database) throws -> AuditEntry {
        if let known {
            do {
                return try insertAudit(AuditChain.next(after: (known.seq, known.hash), record, alertID: alertID, at: at), in: db)
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {}
        }
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit WHERE seq = (SELECT max(seq) FROM audit)"))
        return try insertAudit(AuditChain.next(after: last.map { (seq: $0["seq"], hash: $0["hash"]) }, record, alertID: alertID, at: at), in: db)
    }

    private static func insertAudit(_ entry: AuditEntry, in db: Database) throws -> AuditEntry {
        var insert = try BoundStatement(
            db, sql: "INSERT INTO audit (seq, at, alert_id, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        insert.bind(entry.seq)
        insert.bind(entry.at.timeIntervalSince1970)
        insert.bind(entry.alertID)
        insert.bind(entry.actor)
        insert.bind(entry.action)
        insert.bind(entry.detail)
        insert.bind(entry.prevHash)
        insert.bind(entry.hash)
        try insert.execute()
        return entry
    }

    /// Finishes an effect (with an owner, only while it holds the lease); false when the owner no longer does.
    @discardableResult
    static func finish(_ id: Int64, state: EffectState, error: String?, owner: String? = nil, now: Date, in db: Database) throws -> Bool {
        // Leaving the pending state frees the coalesce key for the next update, and the lease.
        let set = "UPDATE outbox SET state = ?, last_error = ?, finished_at = ?, coalesce_key = NULL, leased_by = NULL, leased_until = NULL"
        var update = try BoundStatement(db, sql: set + (owner == nil ? " WHERE id = ?" : " WHERE id = ? AND state = 'pending' AND leased_by = ?"))
        update.bind(state.rawValue)
        update.bind(error)
        update.bind(now.timeIntervalSince1970)
        update.bind(id)
        guard let owner else {
            try update.execute()
            return true
        }
        update.bind(owner)
        try update.execute()
        return db.changesCount > 0
    }

    static func liveContainments(kind: ContainmentAction.Kind, target: String, in db: Database) throws -> [LiveContainment] {
        try Row.fetchAll(
            db.cachedStatement(
                sql:
                    "SELECT id, alert_id, status FROM containment WHERE kind = ? AND target = ? AND status NOT IN ('released', 'rejected') ORDER BY rowid"
            ), arguments: [kind.rawValue, target]
        ).map { LiveContainment(containmentID: $0["id"], alertID: $0["alert_id"], status: $0["status"]) }
    }
}
