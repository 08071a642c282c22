import Foundation
import PostgresNIO
import SentryCore
import SentryStore

extension PostgresAlertStore {
    // MARK: Outbox

    public func dueEffects(now: Date, limit: Int) async throws -> [OutboxEntry] {
        let rows = try await query(
            """
            SELECT \(unescaped: Self.outboxColumns) FROM outbox o
            WHERE o.state = 'pending' AND o.next_attempt_at <= \(now.timeIntervalSince1970) AND \(unescaped: Self.laneHead)
            ORDER BY o.id LIMIT \(limit)
            """)
        return try await readable(rows, now: now)
    }

    public func claimEffects(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws -> [OutboxEntry] {
        // One statement: the heads no live lease holds, locked as they are read (rows another replica is claiming
        // right now are skipped, not waited for), then leased. A head leased elsewhere still holds back the rest
        // of its lane, since it stays pending; READ COMMITTED re-checks a row that changed before it is locked.
        let at = now.timeIntervalSince1970
        let rows = try await query(
            """
            WITH heads AS MATERIALIZED (
              SELECT o.id FROM outbox o
              WHERE o.state = 'pending' AND o.next_attempt_at <= \(at) AND (o.leased_until IS NULL OR o.leased_until <= \(at) OR o.leased_by = \(owner))
                AND \(unescaped: Self.laneHead)
              ORDER BY o.id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            UPDATE outbox o SET leased_by = \(owner), leased_until = \(at + lease) FROM heads WHERE o.id = heads.id
            RETURNING \(unescaped: Self.outboxColumns)
            """)
        return try await readable(rows, now: now).sorted { $0.id < $1.id }
    }

    /// Decodes outbox rows; one this version cannot read (written by a newer one, or damaged) is failed so that
    /// it does not stop the others.
    private func readable(_ rows: [PostgresRow], now: Date) async throws -> [OutboxEntry] {
        var entries: [OutboxEntry] = []
        var unreadable: [(Int64, String)] = []
        for row in rows {
            do {
                entries.append(try Self.decodeEntry(row))
            } catch {
                unreadable.append(((try? row.decode(Int64.self)) ?? 0, "\(error)"))
            }
        }
        for (id, error) in unreadable {
            try await query(Self.finish(id, state: .failed, error: "unreadable effect: \(error.prefix(200))", owner: nil, now: now))
        }
        return entries
    }

    /// A row with no earlier pending ordered row of its alert (leased or not).
    static let laneHead = """
        (NOT o.ordered OR o.alert_id IS NULL OR NOT EXISTS (
          SELECT 1 FROM outbox p WHERE p.alert_id = o.alert_id AND p.state = 'pending' AND p.ordered AND p.id < o.id))
        """

    public func renewLeases(_ ids: [Int64], owner: String, until: Date) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        let rows = try await query(
            """
            UPDATE outbox SET leased_until = \(until.timeIntervalSince1970)
            WHERE id = ANY(\(ids)) AND state = 'pending' AND leased_by = \(owner) RETURNING id
            """)
        return Set(try rows.map { try $0.decode(Int64.self) })
    }

    /// Replicas share the database: a dead one's leases run out, they are never freed by another at start.
    public func releaseLeases() async throws {}

    public var isShared: Bool { true }

    public func releaseCoalesceKey(_ id: Int64) async throws {
        try await query("UPDATE outbox SET coalesce_key = NULL WHERE id = \(id)")
    }

    public func purge(doneBefore: Date, detectionsBefore: Date) async throws -> Int {
        try await exclusive { connection in
            func count(_ query: PostgresQuery) async throws -> Int {
                var total = 0
                for try await value in try await connection.query(query, logger: self.logger).decode(Int.self) { total = value }
                return total
            }
            let before = detectionsBefore.timeIntervalSince1970
            let outbox = try await count(
                "WITH d AS (DELETE FROM outbox WHERE state = 'done' AND finished_at < \(doneBefore.timeIntervalSince1970) RETURNING 1) SELECT count(*)::int8 FROM d"
            )
            let detections = try await count(
                "WITH d AS (DELETE FROM detection_seen WHERE received_at < \(before) RETURNING 1) SELECT count(*)::int8 FROM d")
            // Windows are at most a few weeks long; seen event ids only matter while collectors may re-read them.
            try await connection.query("DELETE FROM rule_window WHERE bucket < \(Int64(before * 1000))", logger: self.logger)
            try await connection.query("DELETE FROM event_seen WHERE at < \(before)", logger: self.logger)
            return outbox + detections
        }
    }

    public func outbox(alertID: String?) async throws -> [OutboxEntry] {
        let rows: [PostgresRow]
        if let alertID {
            rows = try await query("SELECT \(unescaped: Self.outboxColumns) FROM outbox o WHERE alert_id = \(alertID) ORDER BY id")
        } else {
            rows = try await query("SELECT \(unescaped: Self.outboxColumns) FROM outbox o ORDER BY id")
        }
        return rows.compactMap { try? Self.decodeEntry($0) }
    }

    public func beginAttempt(_ claim: EffectClaim) async throws -> Int {
        let rows = try await query(
            """
            UPDATE outbox SET attempts = attempts + 1
            WHERE id = \(claim.id) AND state = 'pending' AND leased_by = \(claim.owner) RETURNING attempts - 1
            """)
        guard let row = rows.first else { throw StoreError.leaseLost(effectID: claim.id) }
        return try row.decode(Int.self)
    }

    @discardableResult
    public func completeEffects(_ ids: [Int64], owner: String, now: Date) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        let rows = try await query(
            """
            UPDATE outbox SET state = 'done', last_error = NULL, finished_at = \(now.timeIntervalSince1970), coalesce_key = NULL,
              leased_by = NULL, leased_until = NULL
            WHERE id = ANY(\(ids)) AND state = 'pending' AND leased_by = \(owner) RETURNING id
            """)
        let done = Set(try rows.map { try $0.decode(Int64.self) })
        return Set(ids).subtracting(done)
    }

    public func playbookID(ofAlert id: String) async throws -> String? {
        try await query("SELECT body::jsonb ->> 'playbookID' FROM alert WHERE id = \(id)").first?.decode(String?.self)
    }

    public func retryEffect(_ claim: EffectClaim, error: String, at: Date, attemptDelta: Int) async throws {
        let rows = try await query(
            """
            UPDATE outbox SET attempts = GREATEST(0, attempts + \(attemptDelta)), last_error = \(error),
              next_attempt_at = \(at.timeIntervalSince1970), leased_by = NULL, leased_until = NULL
            WHERE id = \(claim.id) AND state = 'pending' AND leased_by = \(claim.owner) RETURNING 1
            """)
        if rows.isEmpty { throw StoreError.leaseLost(effectID: claim.id) }
    }

    public func hasPendingPost(alertID: String) async throws -> Bool {
        let rows = try await query("SELECT effect FROM outbox WHERE alert_id = \(alertID) AND state = 'pending'")
        return try rows.contains { try PostgresCoding.decodeEffect(try $0.decode(String.self)) == .postAlert }
    }

    // MARK: Timers

    public func dueTimers(now: Date, limit: Int) async throws -> [DueTimer] {
        try await query(
            "SELECT alert_id, kind, due_at FROM timer WHERE due_at <= \(now.timeIntervalSince1970) ORDER BY due_at, alert_id LIMIT \(limit)"
        ).compactMap { row in
            let (alertID, kind, due) = try row.decode((String, String, Double).self)
            guard let kind = TimerKind(rawValue: kind) else { return nil }
            return DueTimer(alertID: alertID, kind: kind, dueAt: Date(timeIntervalSince1970: due))
        }
    }

    public func nextTimerDue() async throws -> Date? {
        try await query("SELECT min(due_at) FROM timer").first?.decode(Double?.self).map(Date.init(timeIntervalSince1970:))
    }

    // MARK: Rows

    static let outboxColumns = "o.id, o.alert_id, o.effect, o.attempts, o.idempotency_key, o.state, o.last_error"

    static func decodeEntry(_ row: PostgresRow) throws -> OutboxEntry {
        let (id, alertID, effect, attempts, key, state, lastError) = try row.decode((Int64, String?, String, Int, String, String, String?).self)
        return OutboxEntry.restored(
            id: id, alertID: alertID, effect: try PostgresCoding.decodeEffect(effect), attempts: attempts, idempotencyKey: key,
            state: state, lastError: lastError)
    }

    /// Finishes an effect (with an owner, only while it holds the lease: the query then returns no row when it
    /// does not).
    static func finish(_ id: Int64, state: EffectState, error: String?, owner: String?, now: Date) -> PostgresQuery {
        // Leaving the pending state frees the coalesce key for the next update, and the lease.
        let at = now.timeIntervalSince1970
        guard let owner else {
            return """
                UPDATE outbox SET state = \(state.rawValue), last_error = \(error), finished_at = \(at), coalesce_key = NULL,
                  leased_by = NULL, leased_until = NULL
                WHERE id = \(id) RETURNING 1
                """
        }
        return """
            UPDATE outbox SET state = \(state.rawValue), last_error = \(error), finished_at = \(at), coalesce_key = NULL,
              leased_by = NULL, leased_until = NULL
            WHERE id = \(id) AND state = 'pending' AND leased_by = \(owner) RETURNING 1
            """
    }
}
