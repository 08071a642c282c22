import Foundation
import Logging
import PostgresNIO
import SentryStore

extension PostgresAlertStore: StoreSnapshotting {
    public func exportSnapshot() async throws -> StoreSnapshot {
        try await exclusive { connection in
            // One snapshot of every table, however long reading them takes.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: self.logger)
            func rows(_ table: StoreSnapshot.Table, order: String) async throws -> [PostgresRow] {
                let columns = table.columns.joined(separator: ", ")
                return try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT \(columns) FROM \(table.rawValue) ORDER BY \(order)"), logger: self.logger
                ).collect()
            }
            var snapshot = StoreSnapshot()
            snapshot.alerts = try await rows(.alert, order: "ord").map { row in
                let (id, group, status, until, created, updated, revision, body) = try row.decode(
                    (String, String, String, Double, Double, Double, Int64, String).self)
                return StoreSnapshot.AlertRow(
                    id: id, groupKey: group, status: status, groupUntil: until, createdAt: created, updatedAt: updated, revision: revision, body: body
                )
            }
            snapshot.detections = try await rows(.detectionSeen, order: "id").map { row in
                let (id, alertID, at) = try row.decode((String, String, Double).self)
                return StoreSnapshot.DetectionRow(id: id, alertID: alertID, receivedAt: at)
            }
            snapshot.outbox = try await rows(.outbox, order: "id").map { row in
                let (id, alertID, effect, coalesce, key, state, attempts, next, created, finished, error, ordered) = try row.decode(
                    (Int64, String?, String, String?, String, String, Int, Double, Double, Double?, String?, Bool).self)
                return StoreSnapshot.OutboxRow(
                    id: id, alertID: alertID, effect: effect, coalesceKey: coalesce, idempotencyKey: key, state: state, attempts: attempts,
                    nextAttemptAt: next, createdAt: created, finishedAt: finished, lastError: error, ordered: ordered)
            }
            snapshot.timers = try await rows(.timer, order: "alert_id, kind").map { row in
                let (alertID, kind, due) = try row.decode((String, String, Double).self)
                return StoreSnapshot.TimerRow(alertID: alertID, kind: kind, dueAt: due)
            }
            snapshot.audit = try await rows(.audit, order: "seq").map(Self.decodeAudit)
            snapshot.containments = try await rows(.containment, order: "ord").map { row in
                let (id, alertID, kind, target, status) = try row.decode((String, String, String, String, String).self)
                return StoreSnapshot.ContainmentRow(id: id, alertID: alertID, kind: kind, target: target, status: status)
            }
            snapshot.journal = try await rows(.containmentJournal, order: "containment_id, key").map { row in
                let (id, key, value) = try row.decode((String, String, String).self)
                return StoreSnapshot.JournalRow(containmentID: id, key: key, value: value)
            }
            snapshot.checkpoints = try await rows(.collectorCheckpoint, order: "name").map { row in
                let (name, value, at) = try row.decode((String, String, Double).self)
                return StoreSnapshot.CheckpointRow(name: name, value: value, updatedAt: at)
            }
            snapshot.eventsSeen = try await rows(.eventSeen, order: "source, id").map { row in
                let (source, id, at) = try row.decode((String, String, Double).self)
                return StoreSnapshot.EventSeenRow(source: source, id: id, at: at)
            }
            snapshot.uplinkSnapshots = try await rows(.uplinkSnapshot, order: "key").map { row in
                let (key, body) = try row.decode((String, String).self)
                return StoreSnapshot.UplinkRow(key: key, body: body)
            }
            snapshot.ruleWindows = try await rows(.ruleWindow, order: "rule, key, bucket").map { row in
                let (rule, key, bucket, count) = try row.decode((String, String, Int64, Int64).self)
                return StoreSnapshot.RuleWindowRow(rule: rule, key: key, bucket: bucket, count: count)
            }
            snapshot.ruleFired = try await rows(.ruleFired, order: "rule, key, period").map { row in
                let (rule, key, period) = try row.decode((String, String, Int64).self)
                return StoreSnapshot.RuleFiredRow(rule: rule, key: key, period: period)
            }
            return snapshot
        }
    }

    public func rowCounts() async throws -> [StoreSnapshot.Table: Int] {
        try await exclusive { connection in try await Self.counts(on: connection, logger: self.logger) }
    }

    public func importSnapshot(_ snapshot: StoreSnapshot, replacing: Bool) async throws {
        try await exclusive { connection in
            let logger = self.logger
            // Writers (a replica still running, another copy) wait until this one commits or rolls back; readers do not.
            let tables = (StoreSnapshot.Table.allCases.map(\.rawValue) + ["audit_head"]).joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(tables) IN EXCLUSIVE MODE"), logger: logger)
            let held = try await Self.counts(on: connection, logger: logger)
            if !replacing, held.values.contains(where: { $0 > 0 }) { throw StoreCopyError.targetNotEmpty(held) }
            for table in StoreSnapshot.Table.allCases {
                try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table.rawValue)"), logger: logger)
            }
            let insert = BulkInsert(connection: connection, logger: logger)
            try await insert(.alert, snapshot.alerts) {
                [$0.id, $0.groupKey, $0.status, $0.groupUntil, $0.createdAt, $0.updatedAt, $0.revision, $0.body]
            }
            // The stats columns are derived from the bodies, as on every write.
            try await Self.deriveStatsColumns(on: connection, logger: logger)
            try await insert(.detectionSeen, snapshot.detections) { [$0.id, $0.alertID, $0.receivedAt] }
            // Ids as they were; the lease columns a claim sets are left at their defaults: nobody holds a copied item.
            try await insert(.outbox, snapshot.outbox) {
                [
                    $0.id, $0.alertID, $0.effect, $0.coalesceKey, $0.idempotencyKey, $0.state, $0.attempts, $0.nextAttemptAt, $0.createdAt,
                    $0.finishedAt, $0.lastError, $0.ordered,
                ]
            }
            try await insert(.timer, snapshot.timers) { [$0.alertID, $0.kind, $0.dueAt] }
            try await insert(.audit, snapshot.audit) {
                [$0.seq, $0.at.timeIntervalSince1970, $0.alertID, $0.actor, $0.action, $0.detail, $0.prevHash, $0.hash]
            }
            try await insert(.containment, snapshot.containments) { [$0.id, $0.alertID, $0.kind, $0.target, $0.status] }
            try await insert(.containmentJournal, snapshot.journal) { [$0.containmentID, $0.key, $0.value] }
            try await insert(.collectorCheckpoint, snapshot.checkpoints) { [$0.name, $0.value, $0.updatedAt] }
            try await insert(.eventSeen, snapshot.eventsSeen) { [$0.source, $0.id, $0.at] }
            try await insert(.uplinkSnapshot, snapshot.uplinkSnapshots) { [$0.key, $0.body] }
            try await insert(.ruleWindow, snapshot.ruleWindows) { [$0.rule, $0.key, $0.bucket, $0.count] }
            try await insert(.ruleFired, snapshot.ruleFired) { [$0.rule, $0.key, $0.period] }
            // What is derived from the rows: the next outbox id, and the chain's head the next append links to.
            try await connection.query(
                "SELECT setval(pg_get_serial_sequence('outbox', 'id'), COALESCE((SELECT max(id) FROM outbox), 0) + 1, false)", logger: logger)
            try await connection.query(
                """
                UPDATE audit_head SET seq = COALESCE((SELECT max(seq) FROM audit), 0),
                  hash = COALESCE((SELECT hash FROM audit ORDER BY seq DESC LIMIT 1), \(AuditChain.genesis)) WHERE id = 1
                """, logger: logger)
            let written = try await connection.query(
                "SELECT seq, at, alert_id, actor, action, detail, prev_hash, hash FROM audit ORDER BY seq", logger: logger
            ).collect().map(Self.decodeAudit)
            try StoreCopyError.requireIntact(written, store: "target")
        }
    }

    /// The schema's tables and their columns, in order: what a copy may carry.
    public func schemaTables() async throws -> [String: [String]] {
        var tables: [String: [String]] = [:]
        let rows = try await query(
            """
            SELECT table_name::text, column_name::text FROM information_schema.columns
            WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position
            """)
        for row in rows {
            let (table, column) = try row.decode((String, String).self)
            tables[table, default: []].append(column)
        }
        return tables
    }

    private static func decodeAudit(_ row: PostgresRow) throws -> AuditEntry {
        let (seq, at, alertID, actor, action, detail, prev, hash) = try row.decode(
            (Int64, Double, String?, String, String, String, String, String).self)
        return AuditEntry.restored(
            seq: seq, at: Date(timeIntervalSince1970: at), alertID: alertID, actor: actor, action: action, detail: detail, prevHash: prev, hash: hash)
    }

    private static func counts(on connection: PostgresConnection, logger: Logger) async throws -> [StoreSnapshot.Table: Int] {
        var counts: [StoreSnapshot.Table: Int] = [:]
        for table in StoreSnapshot.Table.allCases {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int8 FROM \(table.rawValue)"), logger: logger).collect()
            counts[table] = try rows.first?.decode(Int.self) ?? 0
        }
        return counts
    }
}

/// Rows into one table, many to a statement (a copy of a large database is not one round trip per row).
private struct BulkInsert {
    let connection: PostgresConnection
    let logger: Logger
    /// PostgreSQL takes at most 65,535 parameters in one statement.
    static let parametersPerStatement = 30_000

    func callAsFunction<Row>(_ table: StoreSnapshot.Table, _ rows: [Row], _ values: (Row) -> [any CopiedValue])
        async throws
    {
        let width = table.columns.count
        let perStatement = max(1, Self.parametersPerStatement / width)
        var start = 0
        while start < rows.count {
            let batch = rows[start..<min(rows.count, start + perStatement)]
            var bindings = PostgresBindings(capacity: batch.count * width)
            var tuples: [String] = []
            for row in batch {
                let row = values(row)
                precondition(row.count == width, "\(table.rawValue): \(row.count) values for \(width) columns")
                let first = bindings.count
                for value in row { value.bind(into: &bindings) }
                tuples.append("(" + (1...width).map { "$\(first + $0)" }.joined(separator: ", ") + ")")
            }
            let sql = "INSERT INTO \(table.rawValue) (\(table.columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))"
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            start += batch.count
        }
    }
}

/// A value of a copied column, NULL included (postgres-nio encodes optionals only through its bindings).
private protocol CopiedValue {
    func bind(into bindings: inout PostgresBindings)
}

extension String: CopiedValue {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension Double: CopiedValue {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension Int64: CopiedValue {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension Int: CopiedValue {
    func bind(into bindings: inout PostgresBindings) { bindings.append(Int64(self)) }
}

extension Bool: CopiedValue {
    func bind(into bindings: inout PostgresBindings) { bindings.append(self) }
}

extension Optional: CopiedValue where Wrapped: CopiedValue {
    func bind(into bindings: inout PostgresBindings) {
        if let self { self.bind(into: &bindings) } else { bindings.appendNull() }
    }
}
