import Foundation
import PostgresNIO
import SentryCore
import SentryStore

extension PostgresAlertStore {
    public func retentionCandidates(closedBefore cutoff: Date, limit: Int) async throws -> [String] {
        try await query(
            """
            SELECT id FROM alert WHERE closed_at < \(cutoff.timeIntervalSince1970) AND status IN ('resolved', 'dismissed')
            ORDER BY closed_at, id COLLATE "C" LIMIT \(limit)
            """
        ).map { try $0.decode(String.self) }
    }
}

extension PostgresTransaction {
    func removeAlert(_ alert: Alert, revision: Int64) async throws -> Bool {
        tracker.touch(alert.id)
        guard !(try await run("DELETE FROM alert WHERE id = \(alert.id) AND revision = \(revision) RETURNING 1")).isEmpty else { return false }
        let containments = alert.containments.map(\.id)
        if !containments.isEmpty {
            try await run("DELETE FROM containment WHERE id = ANY(\(containments))")
            try await run("DELETE FROM containment_journal WHERE containment_id = ANY(\(containments))")
        }
        try await run("DELETE FROM timer WHERE alert_id = \(alert.id)")
        try await run("DELETE FROM outbox WHERE alert_id = \(alert.id)")
        return true
    }
}
