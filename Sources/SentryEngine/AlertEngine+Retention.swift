import Foundation
import SentryCore
import SentryStore

/// `SENTRY_RETENTION`: finished alerts closed before the cutoff are removed, a batch per transaction, with one
/// audit entry per batch naming them (their own audit entries stay, so the chain stays whole).
extension AlertEngine {
    /// Removes what `Retention.mayRemove` allows of the alerts closed before `cutoff`, at most `limit` per call;
    /// returns how many went.
    @discardableResult
    public func removeRetired(closedBefore cutoff: Date, now: Date, limit: Int = 500) async throws -> Int {
        let candidates = try await store.retentionCandidates(closedBefore: cutoff, limit: limit)
        // What is still to run for each candidate (outbox and timers), read once; the alert itself is read and
        // decided inside the transaction that removes it.
        var removable: [(id: String, pending: Int, timers: Int)] = []
        for id in candidates {
            let pending = try await store.outbox(alertID: id).filter { $0.state != "done" && $0.state != "failed" }.count
            let timers = try await store.timers(alertID: id).count
            if pending == 0 && timers == 0 { removable.append((id, pending, timers)) }
        }
        var removed = 0
        for batch in stride(from: 0, to: removable.count, by: 100).map({ Array(removable[$0..<min($0 + 100, removable.count)]) }) {
            removed += try await step { tx in
                var gone: [String] = []
                for (id, pending, timers) in batch {
                    // A click since the outbox was read changes the revision, and the removal then does nothing.
                    guard let stored = try await tx.alert(id: id),
                        Retention.mayRemove(stored.alert, closedBefore: cutoff, pendingEffects: pending, timers: timers),
                        try await tx.removeAlert(stored.alert, revision: stored.revision)
                    else { continue }
                    gone.append(id)
                }
                guard !gone.isEmpty else { return 0 }
                let detail = "\(gone.count) alerts closed before \(Timestamp.iso8601(cutoff)): \(gone.joined(separator: " "))"
                try await tx.appendAudit(AuditRecord(action: "retention.removed", actor: "sentry", detail: detail), alertID: nil, now: now)
                return gone.count
            }
        }
        return removed
    }
}
