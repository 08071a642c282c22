import Foundation
import SentryCore

extension InMemoryAlertStore {
    public func retentionCandidates(closedBefore cutoff: Date, limit: Int) async throws -> [String] {
        read { tables in
            tables.alerts.values.map(\.alert)
                .filter { $0.status.isFinished && ($0.closedAt ?? .distantFuture) < cutoff }
                .sorted { ($0.closedAt ?? .distantFuture, $0.id) < ($1.closedAt ?? .distantFuture, $1.id) }
                .prefix(limit).map(\.id)
        }
    }
}

extension InMemoryTransaction {
    func removeAlert(_ alert: Alert, revision: Int64) async throws -> Bool {
        tables.withLock { tables in
            guard tables.alerts[alert.id]?.revision == revision else { return false }
            tables.alerts[alert.id] = nil
            for item in alert.containments {
                tables.containments[item.id] = nil
                tables.journal[item.id] = nil
            }
            tables.timers = tables.timers.filter { $0.value.alertID != alert.id }
            tables.outbox.removeAll { $0.item.alertID == alert.id }
            return true
        }
    }
}
