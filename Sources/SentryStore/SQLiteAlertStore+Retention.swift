import Foundation
import GRDB
import SentryCore

extension SQLiteAlertStore {
    public func retentionCandidates(closedBefore cutoff: Date, limit: Int) async throws -> [String] {
        try await read { db in
            try String.fetchAll(
                db.cachedStatement(
                    sql: "SELECT id FROM alert WHERE closed_at < ? AND status IN ('resolved', 'dismissed') ORDER BY closed_at, id LIMIT ?"),
                arguments: [cutoff.timeIntervalSince1970, limit])
        }
    }
}

extension SQLiteTransaction {
    func removeAlert(_ alert: Alert, revision: Int64) async throws -> Bool {
        try run { db in
            try db.cachedStatement(sql: "DELETE FROM alert WHERE id = ? AND revision = ?").execute(arguments: [alert.id, revision])
            guard db.changesCount == 1 else { return false }
            for item in alert.containments {
                try db.cachedStatement(sql: "DELETE FROM containment WHERE id = ?").execute(arguments: [item.id])
                try db.cachedStatement(sql: "DELETE FROM containment_journal WHERE containment_id = ?").execute(arguments: [item.id])
            }
            try db.cachedStatement(sql: "DELETE FROM timer WHERE alert_id = ?").execute(arguments: [alert.id])
            try db.cachedStatement(sql: "DELETE FROM outbox WHERE alert_id = ?").execute(arguments: [alert.id])
            return true
        }
    }
}
