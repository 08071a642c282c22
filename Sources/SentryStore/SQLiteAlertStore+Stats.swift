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

    /// Writes an alert's stats columns (`AlertStatsRow.columns`) from the alert the engine gave.
    static func writeStatsColumns(_ alert: Alert, in db: Database) throws {
        let assignments = AlertStatsRow.columns.map { "\($0) = ?" }.joined(separator: ", ")
        var arguments = StatementArguments(AlertStatsRow(alert).columnValues.map(Self.databaseValue))
        arguments += [alert.id]
        try db.cachedStatement(sql: "UPDATE alert SET \(assignments) WHERE id = ?").execute(arguments: arguments)
    }

    /// Derives the stats columns of rows that have none yet from their body: the rows a migration or a copy found.
    static func deriveStatsColumns(in db: Database) throws {
        let pending = try Row.fetchAll(db, sql: "SELECT body FROM alert WHERE containments_placed IS NULL")
        for row in pending { try writeStatsColumns(try decodeAlert(row["body"]), in: db) }
    }

    private static func databaseValue(_ value: (any Sendable)?) -> (any DatabaseValueConvertible)? {
        switch value {
        case let value as Double: value
        case let value as Int: value
        case let value as String: value
        default: nil
        }
    }
}
