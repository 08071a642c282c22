import Foundation
import PostgresNIO
import SentryStore

/// The pollers' leader as a lease row (no session state: it works behind PgBouncer's transaction pooling,
/// unlike a session advisory lock).
extension PostgresAlertStore {
    public func holdLeadership(_ role: String, holder: String, ttl: TimeInterval, now: Date, takeOver: Bool) async throws -> Bool {
        let at = now.timeIntervalSince1970
        let rows = try await query(
            """
            INSERT INTO leadership (role, holder, expires_at) VALUES (\(role), \(holder), \(at + ttl))
            ON CONFLICT (role) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
            WHERE leadership.holder = EXCLUDED.holder OR leadership.expires_at <= \(at) OR \(takeOver)
            RETURNING 1
            """)
        return !rows.isEmpty
    }

    public func resignLeadership(_ role: String, holder: String) async throws {
        try await query("DELETE FROM leadership WHERE role = \(role) AND holder = \(holder)")
    }

    public func leader(_ role: String, now: Date) async throws -> String? {
        try await query("SELECT holder FROM leadership WHERE role = \(role) AND expires_at > \(now.timeIntervalSince1970)").first?.decode(
            String.self)
    }
}
