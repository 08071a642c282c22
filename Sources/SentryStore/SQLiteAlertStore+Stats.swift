import Foundation
import GRDB
import SentryCore

extension SQLiteAlertStore {
    /// The rows of a creation-time range, read through `alert_by_creation` from the stats columns (no JSON).
    public func statsRows(createdFrom from: Date, to: Date) async throws -> [AlertStatsRow] {
        let columns = AlertStatsRow.columns.joined(separator: ", ")
        return try await read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT id, created_at, status, \(columns) FROM alert WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id")
            var rows: [AlertStatsRow] = []
            let cursor = try Row.fetchCursor(statement, arguments: [from.timeIntervalSince1970, to.timeIntervalSince1970])
            while let row = try cursor.next() {
                rows.append(
                    AlertStatsRow.fromColumns(
                        id: row[0], createdAt: row[1], status: row[2], acknowledgedAt: row[3], closedAt: row[4], playbookID: row[5],
                        detection: row[6],
                        subjectLabel: row[7], containments: [row[8], row[9], row[10], row[11]]))
            }
            return rows
        }
    }

    /// An alert's write, its stats columns (`AlertStatsRow.columns`) in the same statement: the update of a known
    /// revision, and the insert of a new alert.
    static let updateAlertSQL =
        "UPDATE alert SET status = ?, updated_at = ?, revision = ?, body = ?, "
        + AlertStatsRow.columns.map { "\($0) = ?" }.joined(separator: ", ") + " WHERE id = ? AND revision = ?"
    static let insertAlertSQL =
        "INSERT OR IGNORE INTO alert (id, group_key, status, group_until, created_at, updated_at, revision, body, "
        + AlertStatsRow.columns.joined(separator: ", ") + ") VALUES ("
        + Array(repeating: "?", count: 8 + AlertStatsRow.columns.count).joined(separator: ", ") + ")"

    /// Binds the values of `AlertStatsRow.columns` for an alert, from `AlertStatsRow(alert)`; times as seconds since
    /// 1970.
    static func bindStats(_ alert: Alert, to statement: inout BoundStatement) {
        let stats = AlertStatsRow(alert)
        statement.bind(stats.acknowledgedAt?.timeIntervalSince1970)
        statement.bind(stats.closedAt?.timeIntervalSince1970)
        statement.bind(stats.playbookID)
        statement.bind(stats.detection)
        statement.bind(stats.subjectLabel)
        statement.bind(stats.containmentsPlaced)
        statement.bind(stats.containmentsApproved)
        statement.bind(stats.containmentsRejected)
        statement.bind(stats.containmentsRolledBack)
    }

    /// Derives the stats columns of rows that have none yet from their body: the rows a migration or a copy found.
    static func deriveStatsColumns(in db: Database) throws {
        let assignments = AlertStatsRow.columns.map { "\($0) = ?" }.joined(separator: ", ")
        let pending = try Row.fetchAll(db, sql: "SELECT body FROM alert WHERE containments_placed IS NULL")
        for row in pending {
            let alert = try decodeAlert(row["body"])
            var update = try BoundStatement(db, sql: "UPDATE alert SET \(assignments) WHERE id = ?")
            bindStats(alert, to: &update)
            update.bind(alert.id)
            try update.execute()
        }
    }
}
