import Foundation
import PostgresNIO
import SentryCore
import SentryStore

extension PostgresAlertStore {
    // MARK: Outbox

    public func dueEffects(now: Date, limit: Int) async throws -> [OutboxEntry] {
        // Only the head of each alert's lane: a later effect never overtakes an earlier one that waits for a
        // retry, and rows waiting behind a head never crowd out other alerts' work.
        let rows = try await query(
            """
            SELECT \(unescaped: Self.outboxColumns) FROM outbox o
            WHERE o.state = 'pending' AND o.next_attempt_at <= \(now.timeIntervalSince1970)
              AND (NOT o.ordered OR o.alert_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM outbox p
                WHERE p.alert_id = o.alert_id AND p.state = 'pending' AND p.ordered AND p.id < o.id))
            ORDER BY o.id LIMIT \(limit)
            """)
        var entries: [OutboxEntry] = []
        var unreadable: [(Int64, String)] = []
        for row in rows {
            do {
                entries.append(try Self.decodeEntry(row))
            } catch {
                unreadable.append(((try? row.decode(Int64.self)) ?? 0, "\(error)"))
            }
        }
        // A row this version cannot read (written by a newer one, or damaged) must not stop the others.
        for (id, error) in unreadable {
            try await query(Self.finish(id, state: .failed, error: "unreadable effect: \(error.prefix(200))", now: now))
        }
        return entries
    }

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

    public func beginAttempt(_ id: Int64) async throws -> Int {
        try await query("UPDATE outbox SET attempts = attempts + 1 WHERE id = \(id) RETURNING attempts - 1").first?.decode(Int.self) ?? 0
    }

    public func completeEffects(_ ids: [Int64], now: Date) async throws {
        guard !ids.isEmpty else { return }
        try await query(
            """
            UPDATE outbox SET state = 'done', last_error = NULL, finished_at = \(now.timeIntervalSince1970), coalesce_key = NULL
            WHERE id = ANY(\(ids))
            """)
    }

    public func playbookID(ofAlert id: String) async throws -> String? {
        try await query("SELECT body::jsonb ->> 'playbookID' FROM alert WHERE id = \(id)").first?.decode(String?.self)
    }

    public func retryEffect(_ id: Int64, error: String, at: Date, attemptDelta: Int) async throws {
        try await query(
            """
            UPDATE outbox SET attempts = GREATEST(0, attempts + \(attemptDelta)), last_error = \(error),
              next_attempt_at = \(at.timeIntervalSince1970)
            WHERE id = \(id) AND state = 'pending'
            """)
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

    static func finish(_ id: Int64, state: EffectState, error: String?, now: Date) -> PostgresQuery {
        // Leaving the pending state frees the coalesce key for the next update.
        """
        UPDATE outbox SET state = \(state.rawValue), last_error = \(error), finished_at = \(now.timeIntervalSince1970), coalesce_key = NULL
        WHERE id = \(id)
        """
    }
}
