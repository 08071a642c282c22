import Foundation
import PostgresNIO
import SentryCore
import SentryStore

extension PostgresAlertStore {
    // MARK: Containment journal

    public func remember(containmentID: String, key: String, value: String) async throws -> String {
        let inserted = try await query(
            """
            INSERT INTO containment_journal (containment_id, key, value) VALUES (\(containmentID), \(key), \(value))
            ON CONFLICT DO NOTHING RETURNING value
            """)
        if let row = inserted.first { return try row.decode(String.self) }
        // Saved before (perhaps by another replica a moment ago): a new statement sees that commit.
        return try await query(
            "SELECT value FROM containment_journal WHERE containment_id = \(containmentID) AND key = \(key)"
        ).first?.decode(String.self) ?? value
    }

    public func recall(containmentID: String) async throws -> [String: String] {
        var facts: [String: String] = [:]
        for row in try await query("SELECT key, value FROM containment_journal WHERE containment_id = \(containmentID)") {
            let (key, value) = try row.decode((String, String).self)
            facts[key] = value
        }
        return facts
    }

    // MARK: Collectors

    public func checkpoint(_ name: String) async throws -> String? {
        try await query("SELECT value FROM collector_checkpoint WHERE name = \(name)").first?.decode(String.self)
    }

    public func setCheckpoint(_ name: String, _ value: String, now: Date) async throws {
        try await query(
            """
            INSERT INTO collector_checkpoint (name, value, updated_at) VALUES (\(name), \(value), \(now.timeIntervalSince1970))
            ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
            """)
    }

    public func firstSeen(source: String, ids: [String], now: Date) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let rows = try await query(
            """
            INSERT INTO event_seen (source, id, at) SELECT \(source), unnest(\(ids)::text[]), \(now.timeIntervalSince1970)
            ON CONFLICT DO NOTHING RETURNING id
            """)
        return Set(try rows.map { try $0.decode(String.self) })
    }

    public func unseen(source: String, ids: [String]) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let seen = try await query("SELECT id FROM event_seen WHERE source = \(source) AND id = ANY(\(ids)::text[])")
        return Set(ids).subtracting(try seen.map { try $0.decode(String.self) })
    }

    public func uplinkSnapshots() async throws -> [String: UplinkSnapshot] {
        var snapshots: [String: UplinkSnapshot] = [:]
        for row in try await query("SELECT key, body FROM uplink_snapshot") {
            let (key, body) = try row.decode((String, String).self)
            if let snapshot = try? PostgresCoding.decode(UplinkSnapshot.self, body) { snapshots[key] = snapshot }
        }
        return snapshots
    }

    public func saveUplinkSnapshots(_ snapshots: [UplinkSnapshot], removing gone: [String]) async throws {
        let bodies = try snapshots.map { try PostgresCoding.encode($0) }
        try await exclusive { connection in
            for (snapshot, body) in zip(snapshots, bodies) {
                try await connection.query(
                    """
                    INSERT INTO uplink_snapshot (key, body) VALUES (\(snapshot.key), \(body))
                    ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body
                    """, logger: self.logger)
            }
            if !gone.isEmpty {
                try await connection.query("DELETE FROM uplink_snapshot WHERE key = ANY(\(gone)::text[])", logger: self.logger)
            }
        }
    }

    public func ruleState(since: Date) async throws -> RuleEngine.State {
        var state = RuleEngine.State()
        let rows = try await query(
            "SELECT rule, key, bucket, count FROM rule_window WHERE bucket >= \(Int64(since.timeIntervalSince1970 * 1000)) ORDER BY bucket")
        for row in rows {
            let (rule, key, bucket, count) = try row.decode((String, String, Int64, Int).self)
            state.times[rule + "|" + key, default: []] += Array(repeating: Double(bucket) / 1000, count: count)
        }
        for row in try await query("SELECT rule FROM rule_fired") { state.fired.insert(try row.decode(String.self)) }
        return state
    }
}
