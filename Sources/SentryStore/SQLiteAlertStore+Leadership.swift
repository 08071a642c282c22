import Foundation
import GRDB

extension SQLiteAlertStore {
    public func holdLeadership(_ role: String, holder: String, ttl: TimeInterval, now: Date, takeOver: Bool) async throws -> Bool {
        try await exclusive { db in
            let until = now.addingTimeInterval(ttl).timeIntervalSince1970
            try db.cachedStatement(
                sql: """
                    INSERT INTO leadership (role, holder, expires_at) VALUES (?, ?, ?)
                    ON CONFLICT (role) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                    WHERE leadership.holder = excluded.holder OR leadership.expires_at <= ? OR ?
                    """
            ).execute(arguments: [role, holder, until, now.timeIntervalSince1970, takeOver])
            return db.changesCount > 0
        }
    }

    public func resignLeadership(_ role: String, holder: String) async throws {
        try await exclusive { db in
            try db.cachedStatement(sql: "DELETE FROM leadership WHERE role = ? AND holder = ?").execute(arguments: [role, holder])
        }
    }

    public func leader(_ role: String, now: Date) async throws -> String? {
        try await read { db in
            try String.fetchOne(
                db.cachedStatement(sql: "SELECT holder FROM leadership WHERE role = ? AND expires_at > ?"),
                arguments: [role, now.timeIntervalSince1970])
        }
    }
}
