import Foundation
import SentryCore

// Rows that a store outside this module (PostgreSQL's, in SentryPostgres) builds from what it read; the
// memberwise initializers are internal.

extension OutboxEntry {
    public static func restored(
        id: Int64, alertID: String?, effect: AlertEffect, attempts: Int, idempotencyKey: String, state: String, lastError: String?
    ) -> OutboxEntry {
        OutboxEntry(id: id, alertID: alertID, effect: effect, attempts: attempts, idempotencyKey: idempotencyKey, state: state, lastError: lastError)
    }
}

extension AuditEntry {
    public static func restored(
        seq: Int64, at: Date, alertID: String?, actor: String, action: String, detail: String, prevHash: String, hash: String
    ) -> AuditEntry {
        AuditEntry(seq: seq, at: at, alertID: alertID, actor: actor, action: action, detail: detail, prevHash: prevHash, hash: hash)
    }
}
