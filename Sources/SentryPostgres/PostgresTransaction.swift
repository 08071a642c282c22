import Foundation
import Logging
import PostgresNIO
import SentryCore
import SentryStore

/// The engine's view of one open PostgreSQL transaction on one leased connection. Reads the engine decides
/// from lock what they read, so no other transaction can change it before this one commits.
final class PostgresTransaction: AlertTransaction, @unchecked Sendable {
    /// The alert this transaction works on, to name it in a conflict that the server reports (a deadlock).
    final class Tracker: @unchecked Sendable {
        private let lock = NSLock()
        private var first: String?
        private var queued = false

        var alertID: String? { lock.withLock { first } }
        /// Whether the transaction added an outbox row.
        var enqueued: Bool { lock.withLock { queued } }

        func noteEnqueued() {
            lock.withLock { queued = true }
        }

        func touch(_ id: String) {
            lock.withLock { if first == nil { first = id } }
        }
    }

    let connection: PostgresConnection
    let logger: Logger
    let tracker: Tracker

    init(connection: PostgresConnection, logger: Logger, tracker: Tracker) {
        self.connection = connection
        self.logger = logger
        self.tracker = tracker
    }

    @discardableResult
    func run(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger).collect()
    }

    /// Waits until no other transaction holds `key` (until this one ends): a lock on something that may not
    /// have a row yet, such as a group key with no alert.
    private func lock(_ key: String) async throws {
        try await run("SELECT pg_advisory_xact_lock(hashtextextended(\(key), 0))")
    }

    func alertID(forDetection id: String) async throws -> String? {
        try await run("SELECT alert_id FROM detection_seen WHERE id = \(id)").first?.decode(String.self)
    }

    func recordDetection(_ id: String, alertID: String, now: Date) async throws {
        let rows = try await run(
            """
            INSERT INTO detection_seen (id, alert_id, received_at) VALUES (\(id), \(alertID), \(now.timeIntervalSince1970))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """)
        // Another transaction recorded the same detection since this one looked: decide again (a duplicate).
        if rows.isEmpty { throw StoreError.revisionConflict(alertID: alertID) }
    }

    func alert(id: String) async throws -> StoredAlert? {
        tracker.touch(id)
        guard let row = try await run("SELECT body, revision FROM alert WHERE id = \(id) FOR UPDATE").first else { return nil }
        let (body, revision) = try row.decode((String, Int64).self)
        return StoredAlert(alert: try PostgresCoding.decodeAlert(body), revision: revision)
    }

    func groupCandidates(groupKey: String) async throws -> [StoredAlert] {
        // Two first detections of one subject must not both create an alert: the key is locked even while no
        // alert has it, and the rows read after the lock include whatever the last holder committed.
        try await lock("group:" + groupKey)
        let rows = try await run(
            """
            SELECT body, revision FROM alert
            WHERE group_key = \(groupKey) AND status IN ('open', 'acknowledged')
            ORDER BY (body::jsonb ? 'snooze') DESC, created_at DESC, ord DESC LIMIT 16 FOR UPDATE
            """)
        return try rows.map { row in
            let (body, revision) = try row.decode((String, Int64).self)
            return StoredAlert(alert: try PostgresCoding.decodeAlert(body), revision: revision)
        }
    }

    func liveContainments(kind: ContainmentAction.Kind, target: String) async throws -> [LiveContainment] {
        // One live block per target across alerts: a second request for the target waits for the first to commit.
        try await lock("containment:\(kind.rawValue):\(target)")
        return try await PostgresAlertStore.liveContainments(kind: kind, target: target) { try await self.run($0) }
    }

    func write(_ record: TransitionRecord, now: Date) async throws {
        let at = now.timeIntervalSince1970
        if let alert = record.save {
            tracker.touch(alert.id)
            let body = try PostgresCoding.encodeAlert(alert)
            // The stats columns (`AlertStatsRow.columns`, from `AlertStatsRow(alert)`) in the same statement.
            let stats = AlertStatsRow(alert)
            let written: [PostgresRow]
            if let expected = record.expectedRevision {
                written = try await run(
                    """
                    UPDATE alert SET status = \(alert.status.rawValue), group_until = \(alert.groupUntil.timeIntervalSince1970),
                      updated_at = \(at), revision = \(record.nextRevision), body = \(body),
                      acknowledged_at = \(stats.acknowledgedAt?.timeIntervalSince1970), closed_at = \(stats.closedAt?.timeIntervalSince1970),
                      playbook_id = \(stats.playbookID), detection = \(stats.detection), subject_label = \(stats.subjectLabel),
                      containments_placed = \(stats.containmentsPlaced), containments_approved = \(stats.containmentsApproved),
                      containments_rejected = \(stats.containmentsRejected), containments_rolled_back = \(stats.containmentsRolledBack)
                    WHERE id = \(alert.id) AND revision = \(expected) RETURNING 1
                    """)
            } else {
                written = try await run(
                    """
                    INSERT INTO alert (id, group_key, status, group_until, created_at, updated_at, revision, body,
                      acknowledged_at, closed_at, playbook_id, detection, subject_label, containments_placed, containments_approved,
                      containments_rejected, containments_rolled_back)
                    VALUES (\(alert.id), \(alert.groupKey), \(alert.status.rawValue), \(alert.groupUntil.timeIntervalSince1970),
                      \(alert.createdAt.timeIntervalSince1970), \(at), \(record.nextRevision), \(body),
                      \(stats.acknowledgedAt?.timeIntervalSince1970), \(stats.closedAt?.timeIntervalSince1970), \(stats.playbookID),
                      \(stats.detection), \(stats.subjectLabel), \(stats.containmentsPlaced), \(stats.containmentsApproved),
                      \(stats.containmentsRejected), \(stats.containmentsRolledBack))
                    ON CONFLICT (id) DO NOTHING RETURNING 1
                    """)
            }
            guard written.count == 1 else { throw StoreError.revisionConflict(alertID: alert.id) }
            for item in alert.containments {
                try await run(
                    """
                    INSERT INTO containment (id, alert_id, kind, target, status)
                    VALUES (\(item.id), \(alert.id), \(item.kind.rawValue), \(item.target), \(item.status.rawValue))
                    ON CONFLICT (id) DO UPDATE SET alert_id = EXCLUDED.alert_id, kind = EXCLUDED.kind, target = EXCLUDED.target,
                      status = EXCLUDED.status
                    """)
            }
        }
        if let audit = record.audit { try await appendAudit(audit, alertID: record.auditAlertID, now: now) }
        for change in record.timers {
            switch change {
            case .set(let kind, let due):
                try await run(
                    """
                    INSERT INTO timer (alert_id, kind, due_at) VALUES (\(record.alertID), \(kind.rawValue), \(due.timeIntervalSince1970))
                    ON CONFLICT (alert_id, kind) DO UPDATE SET due_at = EXCLUDED.due_at
                    """)
            case .cancel(let kind):
                try await run("DELETE FROM timer WHERE alert_id = \(record.alertID) AND kind = \(kind.rawValue)")
            }
        }
        for item in record.outbox { try await enqueue(item, now: now) }
    }

    @discardableResult
    func enqueue(_ item: OutboxItem, now: Date) async throws -> Bool {
        // Nothing is added when the idempotency key was used, or a pending item holds the coalesce key.
        let at = now.timeIntervalSince1970
        let rows = try await run(
            """
            INSERT INTO outbox (alert_id, effect, coalesce_key, idempotency_key, next_attempt_at, created_at, ordered)
            VALUES (\(item.alertID), \(try PostgresCoding.encodeEffect(item.effect)), \(item.coalesceKey), \(item.idempotencyKey),
              \(at), \(at), \(item.ordered))
            ON CONFLICT DO NOTHING RETURNING id
            """)
        if !rows.isEmpty { tracker.noteEnqueued() }
        return !rows.isEmpty
    }

    func finishEffect(_ id: Int64, _ state: EffectState, error: String?, owner: String?, now: Date) async throws {
        let finished = try await run(PostgresAlertStore.finish(id, state: state, error: error, owner: owner, now: now))
        if owner != nil, finished.isEmpty { throw StoreError.leaseLost(effectID: id) }
    }

    func deleteTimer(alertID: String, kind: TimerKind, dueBy: Date) async throws -> Bool {
        // The alert first, as every other step locks it: a click and the timer then never wait for each other crosswise.
        tracker.touch(alertID)
        try await run("SELECT 1 FROM alert WHERE id = \(alertID) FOR UPDATE")
        let due = dueBy.timeIntervalSince1970
        return !(try await run("DELETE FROM timer WHERE alert_id = \(alertID) AND kind = \(kind.rawValue) AND due_at <= \(due) RETURNING 1")).isEmpty
    }

    func appendAudit(_ record: AuditRecord, alertID: String?, now: Date) async throws {
        // The head row is the chain's one writer: whoever locks it appends next, and holds it until commit.
        guard let head = try await run("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE").first else {
            throw PostgresFailure.Described(sqlState: nil, description: "PostgreSQL: audit_head row is missing")
        }
        let (seq, hash) = try head.decode((Int64, String).self)
        let entry = AuditChain.next(after: (seq, hash), record, alertID: alertID, at: now)
        let at = entry.at.timeIntervalSince1970
        try await run(
            """
            INSERT INTO audit (seq, at, alert_id, actor, action, detail, prev_hash, hash)
            VALUES (\(entry.seq), \(at), \(entry.alertID), \(entry.actor), \(entry.action), \(entry.detail), \(entry.prevHash), \(entry.hash))
            """)
        try await run("UPDATE audit_head SET seq = \(entry.seq), hash = \(entry.hash) WHERE id = 1")
    }

    func recordEvents(source: String, ids: [String], now: Date) async throws {
        guard !ids.isEmpty else { return }
        try await run(
            """
            INSERT INTO event_seen (source, id, at) SELECT \(source), unnest(\(ids)::text[]), \(now.timeIntervalSince1970)
            ON CONFLICT DO NOTHING
            """)
    }

    func countRuleEvent(rule: String, key: String, at: Double) async throws {
        try await run(
            """
            INSERT INTO rule_window (rule, key, bucket, count) VALUES (\(rule), \(key), \(Int64((at * 1000).rounded())), 1)
            ON CONFLICT (rule, key, bucket) DO UPDATE SET count = rule_window.count + 1
            """)
    }

    func recordRuleFired(_ key: String) async throws {
        try await run("INSERT INTO rule_fired (rule, key, period) VALUES (\(key), '', 0) ON CONFLICT DO NOTHING")
    }
}
