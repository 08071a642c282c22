import Foundation
import GRDB
import SentryCore

extension SQLiteAlertStore {
    // MARK: Outbox

    public func dueEffects(now: Date, limit: Int) async throws -> [OutboxEntry] {
        try await laneHeads(now: now, limit: limit, claim: nil)
    }

    public func claimEffects(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws -> [OutboxEntry] {
        try await laneHeads(now: now, limit: limit, claim: (owner, now.addingTimeInterval(lease)))
    }

    /// Only the head of each alert's lane: a later effect never overtakes an earlier one that waits for a retry
    /// or runs under a lease, and rows waiting behind a head never crowd out other alerts' work. With a claim,
    /// heads under a live lease are skipped and the rest leased, in the same write transaction.
    private func laneHeads(now: Date, limit: Int, claim: (owner: String, until: Date)?) async throws -> [OutboxEntry] {
        let at = now.timeIntervalSince1970
        let select = """
            SELECT * FROM outbox o
            WHERE o.state = 'pending' AND o.next_attempt_at <= ?\(claim == nil ? "" : " AND (o.leased_until IS NULL OR o.leased_until <= ? OR o.leased_by = ?)")
              AND (o.ordered = 0 OR o.alert_id IS NULL OR NOT EXISTS (
                SELECT 1 FROM outbox p
                WHERE p.alert_id = o.alert_id AND p.state = 'pending' AND p.ordered = 1 AND p.id < o.id))
            ORDER BY o.id LIMIT ?
            """
        let fetch = { (db: Database) throws -> ([OutboxEntry], [(Int64, String)]) in
            let arguments: StatementArguments = claim.map { [at, at, $0.owner, limit] } ?? [at, limit]
            let rows = try Row.fetchAll(db.cachedStatement(sql: select), arguments: arguments)
            var entries: [OutboxEntry] = []
            var unreadable: [(Int64, String)] = []
            for row in rows {
                do {
                    entries.append(try Self.decodeEntry(row))
                } catch {
                    unreadable.append((row["id"], "\(error)"))
                }
            }
            if let claim {
                let lease = try db.cachedStatement(sql: "UPDATE outbox SET leased_by = ?, leased_until = ? WHERE id = ?")
                for entry in entries { try lease.execute(arguments: [claim.owner, claim.until.timeIntervalSince1970, entry.id]) }
            }
            return (entries, unreadable)
        }
        let (entries, unreadable) = claim == nil ? try await read(fetch) : try await exclusive(fetch)
        if !unreadable.isEmpty {
            // A row this version cannot read (written by a newer one, or damaged) must not stop the others.
            try await exclusive { db in
                for (id, error) in unreadable {
                    try Self.finish(id, state: .failed, error: "unreadable effect: \(error.prefix(200))", now: now, in: db)
                }
            }
        }
        return entries
    }

    public func renewLeases(_ ids: [Int64], owner: String, until: Date) async throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        return try await exclusive { db in
            let renew = try db.cachedStatement(sql: "UPDATE outbox SET leased_until = ? WHERE id = ? AND state = 'pending' AND leased_by = ?")
            var held: Set<Int64> = []
            for id in ids {
                try renew.execute(arguments: [until.timeIntervalSince1970, id, owner])
                if db.changesCount > 0 { held.insert(id) }
            }
            return held
        }
    }

    public func releaseLeases() async throws {
        try await exclusive { db in
            try db.execute(sql: "UPDATE outbox SET leased_by = NULL, leased_until = NULL WHERE leased_by IS NOT NULL")
        }
    }

    /// One process serves a SQLite file.
    public var isShared: Bool { false }

    public func releaseCoalesceKey(_ id: Int64) async throws {
        try await exclusive { db in
            try db.cachedStatement(sql: "UPDATE outbox SET coalesce_key = NULL WHERE id = ?").execute(arguments: [id])
        }
    }

    public func purge(doneBefore: Date, detectionsBefore: Date) async throws -> Int {
        try await exclusive { db in
            try db.cachedStatement(sql: "DELETE FROM outbox WHERE state = 'done' AND finished_at < ?").execute(arguments: [
                doneBefore.timeIntervalSince1970
            ])
            let outbox = db.changesCount
            try db.cachedStatement(sql: "DELETE FROM detection_seen WHERE received_at < ?").execute(arguments: [
                detectionsBefore.timeIntervalSince1970
            ])
            let detections = db.changesCount
            // Windows are at most a few weeks long; seen event ids only matter while collectors may re-read them.
            try db.cachedStatement(sql: "DELETE FROM rule_window WHERE bucket < ?").execute(arguments: [
                Int64(detectionsBefore.timeIntervalSince1970 * 1000)
            ])
            try db.cachedStatement(sql: "DELETE FROM event_seen WHERE at < ?").execute(arguments: [detectionsBefore.timeIntervalSince1970])
            return outbox + detections
        }
    }

    public func outbox(alertID: String?) async throws -> [OutboxEntry] {
        try await read { db in
            if let alertID {
                return try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM outbox WHERE alert_id = ? ORDER BY id"), arguments: [alertID])
                    .compactMap { try? Self.decodeEntry($0) }
            }
            return try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM outbox ORDER BY id")).compactMap { try? Self.decodeEntry($0) }
        }
    }

    public func beginAttempt(_ claim: EffectClaim) async throws -> Int {
        try await exclusive { db in
            let previous = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT attempts FROM outbox WHERE id = ? AND state = 'pending' AND leased_by = ?"),
                arguments: [claim.id, claim.owner])
            guard let previous else { throw StoreError.leaseLost(effectID: claim.id) }
            try db.cachedStatement(sql: "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?").execute(arguments: [claim.id])
            return previous
        }
    }

    @discardableResult
    public func completeEffects(_ ids: [Int64], owner: String, now: Date) async throws -> Set<Int64> {
        try await exclusive { db in
            var lost: Set<Int64> = []
            for id in ids where try !Self.finish(id, state: .done, error: nil, owner: owner, now: now, in: db) { lost.insert(id) }
            return lost
        }
    }

    public func playbookID(ofAlert id: String) async throws -> String? {
        try await read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT json_extract(body, '$.playbookID') FROM alert WHERE id = ?"), arguments: [id])
        }
    }

    public func retryEffect(_ claim: EffectClaim, error: String, at: Date, attemptDelta: Int) async throws {
        try await exclusive { db in
            try db.cachedStatement(
                sql: """
                    UPDATE outbox SET attempts = MAX(0, attempts + ?), last_error = ?, next_attempt_at = ?, leased_by = NULL, leased_until = NULL
                    WHERE id = ? AND state = 'pending' AND leased_by = ?
                    """
            ).execute(arguments: [attemptDelta, error, at.timeIntervalSince1970, claim.id, claim.owner])
            if db.changesCount == 0 { throw StoreError.leaseLost(effectID: claim.id) }
        }
    }

    public func hasPendingPost(alertID: String) async throws -> Bool {
        try await read { db in
            let effects = try String.fetchAll(
                db.cachedStatement(sql: "SELECT effect FROM outbox WHERE alert_id = ? AND state = 'pending'"), arguments: [alertID])
            return try effects.contains { try Self.decodeEffect($0) == .postAlert }
        }
    }

    // MARK: Timers

    public func dueTimers(now: Date, limit: Int) async throws -> [DueTimer] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT alert_id, kind, due_at FROM timer WHERE due_at <= ? ORDER BY due_at LIMIT ?"),
                arguments: [now.timeIntervalSince1970, limit]
            ).compactMap { row in
                guard let kind = TimerKind(rawValue: row["kind"]) else { return nil }
                return DueTimer(alertID: row["alert_id"], kind: kind, dueAt: Date(timeIntervalSince1970: row["due_at"]))
            }
        }
    }

    public func nextTimerDue() async throws -> Date? {
        try await read { db in
            try Double.fetchOne(db.cachedStatement(sql: "SELECT MIN(due_at) FROM timer")).map(Date.init(timeIntervalSince1970:))
        }
    }

}
