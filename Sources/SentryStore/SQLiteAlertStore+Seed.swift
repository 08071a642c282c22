import Foundation
import GRDB
import SentryCore

extension SQLiteAlertStore {
    /// For the scale benchmark (`sentry bench scale`): a year of history in a few seconds. Copies the finished alert
    /// `templateID` `alerts` times under new ids (`A-SEED-n`), spread over `groupKeys` in turn and over the
    /// `days` before it closed, then appends `auditEntries` audit rows. The copies are real rows on every index;
    /// the seeded audit rows carry random hashes (not a chain `sentry audit verify` accepts), and entries appended
    /// after them chain on the last one as usual.
    public func seedHistory(like templateID: String, alerts: Int, groupKeys: [String], days: Double, auditEntries: Int) async throws {
        precondition(!groupKeys.isEmpty && alerts >= 0 && auditEntries >= 0)
        try await exclusive { db in
            let columns = try db.columns(in: "alert").map(\.name)
            let replaced = [
                "id": "'A-SEED-' || n.i",
                "group_key": "json_extract(:keys, '$[' || (n.i % :keyCount) || ']')",
                "body": "replace(body, '\"' || :template || '\"', '\"A-SEED-' || n.i || '\"')",
                "created_at": "created_at - n.i * :spacing", "updated_at": "updated_at - n.i * :spacing",
                "group_until": "group_until - n.i * :spacing", "closed_at": "closed_at - n.i * :spacing",
                "acknowledged_at": "acknowledged_at - n.i * :spacing",
            ]
            let values = columns.map { replaced[$0] ?? $0 }.joined(separator: ", ")
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < :alerts)
                    INSERT INTO alert (\(columns.joined(separator: ", "))) SELECT \(values) FROM n, alert WHERE alert.id = :template AND :alerts > 0
                    """,
                arguments: [
                    "alerts": alerts, "template": templateID, "keys": try StoredJSON.encode(groupKeys),
                    "keyCount": groupKeys.count, "spacing": days * 86_400 / Double(max(alerts, 1)),
                ])
            try db.execute(
                sql: """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
                    INSERT INTO audit (seq, at, alert_id, actor, action, detail, prev_hash, hash)
                    SELECT (SELECT coalesce(max(seq), 0) FROM audit) + n.i, :at, 'A-SEED-' || (n.i % max(:alerts, 1)), 'U0SEED',
                           'alert.resolved', 'seeded history', lower(hex(randomblob(32))), lower(hex(randomblob(32)))
                    FROM n WHERE :count > 0
                    """, arguments: ["count": auditEntries, "at": Date().timeIntervalSince1970, "alerts": alerts])
        }
    }
}
