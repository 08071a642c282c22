import Foundation
import GRDB

extension SQLiteAlertStore: StoreSnapshotting {
    public func exportSnapshot() async throws -> StoreSnapshot {
        // One read: a WAL reader sees one committed state of every table.
        try await read { db in
            var snapshot = StoreSnapshot()
            snapshot.alerts = try Self.rows(.alert, in: db, order: "rowid") { row in
                StoreSnapshot.AlertRow(
                    id: row["id"], groupKey: row["group_key"], status: row["status"], groupUntil: row["group_until"], createdAt: row["created_at"],
                    updatedAt: row["updated_at"], revision: row["revision"], body: row["body"])
            }
            snapshot.detections = try Self.rows(.detectionSeen, in: db, order: "id") { row in
                StoreSnapshot.DetectionRow(id: row["id"], alertID: row["alert_id"], receivedAt: row["received_at"])
            }
            snapshot.outbox = try Self.rows(.outbox, in: db, order: "id") { row in
                StoreSnapshot.OutboxRow(
                    id: row["id"], alertID: row["alert_id"], effect: row["effect"], coalesceKey: row["coalesce_key"],
                    idempotencyKey: row["idempotency_key"], state: row["state"], attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"],
                    createdAt: row["created_at"], finishedAt: row["finished_at"], lastError: row["last_error"], ordered: (row["ordered"] as Int) != 0)
            }
            snapshot.timers = try Self.rows(.timer, in: db, order: "alert_id, kind") { row in
                StoreSnapshot.TimerRow(alertID: row["alert_id"], kind: row["kind"], dueAt: row["due_at"])
            }
            snapshot.audit = try Self.rows(.audit, in: db, order: "seq") { row in
                AuditEntry(
                    seq: row["seq"], at: Date(timeIntervalSince1970: row["at"]), alertID: row["alert_id"], actor: row["actor"], action: row["action"],
                    detail: row["detail"], prevHash: row["prev_hash"], hash: row["hash"])
            }
            snapshot.containments = try Self.rows(.containment, in: db, order: "rowid") { row in
                StoreSnapshot.ContainmentRow(id: row["id"], alertID: row["alert_id"], kind: row["kind"], target: row["target"], status: row["status"])
            }
            snapshot.journal = try Self.rows(.containmentJournal, in: db, order: "containment_id, key") { row in
                StoreSnapshot.JournalRow(containmentID: row["containment_id"], key: row["key"], value: row["value"])
            }
            snapshot.checkpoints = try Self.rows(.collectorCheckpoint, in: db, order: "name") { row in
                StoreSnapshot.CheckpointRow(name: row["name"], value: row["value"], updatedAt: row["updated_at"])
            }
            snapshot.eventsSeen = try Self.rows(.eventSeen, in: db, order: "source, id") { row in
                StoreSnapshot.EventSeenRow(source: row["source"], id: row["id"], at: row["at"])
            }
            snapshot.uplinkSnapshots = try Self.rows(.uplinkSnapshot, in: db, order: "key") { row in
                StoreSnapshot.UplinkRow(key: row["key"], body: row["body"])
            }
            snapshot.ruleWindows = try Self.rows(.ruleWindow, in: db, order: "rule, key, bucket") { row in
                StoreSnapshot.RuleWindowRow(rule: row["rule"], key: row["key"], bucket: row["bucket"], count: row["count"])
            }
            snapshot.ruleFired = try Self.rows(.ruleFired, in: db, order: "rule, key, period") { row in
                StoreSnapshot.RuleFiredRow(rule: row["rule"], key: row["key"], period: row["period"])
            }
            return snapshot
        }
    }

    public func rowCounts() async throws -> [StoreSnapshot.Table: Int] {
        try await read { db in try Self.counts(in: db) }
    }

    public func importSnapshot(_ snapshot: StoreSnapshot, replacing: Bool) async throws {
        try await exclusive { db in
            let held = try Self.counts(in: db)
            if !replacing, held.values.contains(where: { $0 > 0 }) { throw StoreCopyError.targetNotEmpty(held) }
            for table in StoreSnapshot.Table.allCases { try db.execute(sql: "DELETE FROM \(table.rawValue)") }
            try Self.insert(.alert, snapshot.alerts, in: db) {
                [$0.id, $0.groupKey, $0.status, $0.groupUntil, $0.createdAt, $0.updatedAt, $0.revision, $0.body]
            }
            // The stats columns are derived from the bodies, as on every write.
            try Self.deriveStatsColumns(in: db)
            try Self.insert(.detectionSeen, snapshot.detections, in: db) { [$0.id, $0.alertID, $0.receivedAt] }
            // Ids as they were: completions and attempt counts refer to them. A copied item is nobody's claim.
            try Self.insert(.outbox, snapshot.outbox, in: db) {
                [
                    $0.id, $0.alertID, $0.effect, $0.coalesceKey, $0.idempotencyKey, $0.state, $0.attempts, $0.nextAttemptAt, $0.createdAt,
                    $0.finishedAt, $0.lastError, $0.ordered ? 1 : 0,
                ]
            }
            try Self.insert(.timer, snapshot.timers, in: db) { [$0.alertID, $0.kind, $0.dueAt] }
            try Self.insert(.audit, snapshot.audit, in: db) {
                [$0.seq, $0.at.timeIntervalSince1970, $0.alertID, $0.actor, $0.action, $0.detail, $0.prevHash, $0.hash]
            }
            try Self.insert(.containment, snapshot.containments, in: db) { [$0.id, $0.alertID, $0.kind, $0.target, $0.status] }
            try Self.insert(.containmentJournal, snapshot.journal, in: db) { [$0.containmentID, $0.key, $0.value] }
            try Self.insert(.collectorCheckpoint, snapshot.checkpoints, in: db) { [$0.name, $0.value, $0.updatedAt] }
            try Self.insert(.eventSeen, snapshot.eventsSeen, in: db) { [$0.source, $0.id, $0.at] }
            try Self.insert(.uplinkSnapshot, snapshot.uplinkSnapshots, in: db) { [$0.key, $0.body] }
            try Self.insert(.ruleWindow, snapshot.ruleWindows, in: db) { [$0.rule, $0.key, $0.bucket, $0.count] }
            try Self.insert(.ruleFired, snapshot.ruleFired, in: db) { [$0.rule, $0.key, $0.period] }
            let written = try Row.fetchAll(db, sql: "SELECT seq, at, alert_id, actor, action, detail, prev_hash, hash FROM audit ORDER BY seq").map {
                AuditEntry(
                    seq: $0["seq"], at: Date(timeIntervalSince1970: $0["at"]), alertID: $0["alert_id"], actor: $0["actor"], action: $0["action"],
                    detail: $0["detail"], prevHash: $0["prev_hash"], hash: $0["hash"])
            }
            try StoreCopyError.requireIntact(written, store: "target")
        }
        // Decoded alerts of rows that were just replaced must not be served again.
        decoded.removeAll()
    }

    /// The file's tables and their columns, in order (GRDB's own bookkeeping left out): what a copy must carry.
    public func schemaTables() async throws -> [String: [String]] {
        try await read { db in
            var tables: [String: [String]] = [:]
            let names = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%'")
            for name in names {
                tables[name] = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [name]).map { $0["name"] }
            }
            return tables
        }
    }

    private static func rows<T>(_ table: StoreSnapshot.Table, in db: Database, order: String, _ make: (Row) throws -> T) throws -> [T] {
        try Row.fetchAll(db, sql: "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.rawValue) ORDER BY \(order)").map(make)
    }

    private static func counts(in db: Database) throws -> [StoreSnapshot.Table: Int] {
        var counts: [StoreSnapshot.Table: Int] = [:]
        for table in StoreSnapshot.Table.allCases {
            counts[table] = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.rawValue)") ?? 0
        }
        return counts
    }

    private static func insert<T>(_ table: StoreSnapshot.Table, _ rows: [T], in db: Database, _ values: (T) -> [(any DatabaseValueConvertible)?])
        throws
    {
        let marks = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
        let statement = try db.makeStatement(sql: "INSERT INTO \(table.rawValue) (\(table.columns.joined(separator: ", "))) VALUES (\(marks))")
        for row in rows { try statement.execute(arguments: StatementArguments(values(row))) }
    }
}
