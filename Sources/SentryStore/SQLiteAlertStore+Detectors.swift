import Foundation
import GRDB
import SentryCore

extension SQLiteAlertStore {
    // MARK: Containment journal

    public func remember(containmentID: String, key: String, value: String) async throws -> String {
        try await exclusive { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO containment_journal (containment_id, key, value) VALUES (?, ?, ?)",
                arguments: [containmentID, key, value])
            return try String.fetchOne(
                db, sql: "SELECT value FROM containment_journal WHERE containment_id = ? AND key = ?", arguments: [containmentID, key]) ?? value
        }
    }

    public func recall(containmentID: String) async throws -> [String: String] {
        try await read { db in
            var facts: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM containment_journal WHERE containment_id = ?", arguments: [containmentID]) {
                facts[row["key"]] = row["value"]
            }
            return facts
        }
    }

    // MARK: Collectors

    public func checkpoint(_ name: String) async throws -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT value FROM collector_checkpoint WHERE name = ?", arguments: [name]) }
    }

    public func setCheckpoint(_ name: String, _ value: String, now: Date) async throws {
        try await exclusive { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO collector_checkpoint (name, value, updated_at) VALUES (?, ?, ?)",
                arguments: [name, value, now.timeIntervalSince1970])
        }
    }

    public func firstSeen(source: String, ids: [String], now: Date) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await exclusive { db in
            var fresh: Set<String> = []
            for id in ids {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO event_seen (source, id, at) VALUES (?, ?, ?)", arguments: [source, id, now.timeIntervalSince1970])
                if db.changesCount > 0 { fresh.insert(id) }
            }
            return fresh
        }
    }

    public func uplinkSnapshots() async throws -> [String: UplinkSnapshot] {
        try await read { db in
            var snapshots: [String: UplinkSnapshot] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, body FROM uplink_snapshot") {
                if let snapshot = try? StoredJSON.decode(UplinkSnapshot.self, row["body"]) { snapshots[row["key"]] = snapshot }
            }
            return snapshots
        }
    }

    public func saveUplinkSnapshots(_ snapshots: [UplinkSnapshot], removing gone: [String]) async throws {
        try await exclusive { db in
            for snapshot in snapshots {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO uplink_snapshot (key, body) VALUES (?, ?)",
                    arguments: [snapshot.key, try StoredJSON.encode(snapshot)])
            }
            for key in gone { try db.execute(sql: "DELETE FROM uplink_snapshot WHERE key = ?", arguments: [key]) }
        }
    }

    /// Of these event ids, the ones not counted before.
    public func unseen(source: String, ids: [String]) async throws -> Set<String> {
        try await read { db in
            var fresh = Set(ids)
            for id in ids where try Int.fetchOne(db, sql: "SELECT 1 FROM event_seen WHERE source = ? AND id = ?", arguments: [source, id]) != nil {
                fresh.remove(id)
            }
            return fresh
        }
    }

    /// The counting state the rule engine resumes from after a restart.
    public func ruleState(since: Date) async throws -> RuleEngine.State {
        try await read { db in
            var state = RuleEngine.State()
            for row in try Row.fetchAll(
                db, sql: "SELECT rule, key, bucket, count FROM rule_window WHERE bucket >= ? ORDER BY bucket",
                arguments: [Int64(since.timeIntervalSince1970 * 1000)])
            {
                let rule: String = row["rule"]
                let key: String = row["key"]
                let at = Double(row["bucket"] as Int64) / 1000
                let count: Int = row["count"]
                state.times[rule + "|" + key, default: []] += Array(repeating: at, count: count)
            }
            for key in try String.fetchAll(db, sql: "SELECT rule FROM rule_fired") { state.fired.insert(key) }
            return state
        }
    }

}
