import Logging
import PostgresNIO
import SentryCore

extension PostgresAlertStore {
    /// Writes an alert's stats columns from `AlertStatsRow(alert)`, the one place that says what they hold (a
    /// transaction's write sets them in its own statement, the same way).
    static func statsUpdate(_ alert: Alert) -> PostgresQuery {
        let stats = AlertStatsRow(alert)
        return """
            UPDATE alert SET acknowledged_at = \(stats.acknowledgedAt?.timeIntervalSince1970), closed_at = \(stats.closedAt?.timeIntervalSince1970),
              playbook_id = \(stats.playbookID), detection = \(stats.detection), subject_label = \(stats.subjectLabel),
              containments_placed = \(stats.containmentsPlaced), containments_approved = \(stats.containmentsApproved),
              containments_rejected = \(stats.containmentsRejected), containments_rolled_back = \(stats.containmentsRolledBack)
            WHERE id = \(alert.id)
            """
    }

    /// Fills the stats columns of rows no write has filled yet (rows from before the migration, or a copy), from
    /// their bodies. Rows already filled are left alone, so a
    /// second replica starting at the same time finds nothing to do or writes the same values.
    static func deriveStatsColumns(on connection: PostgresConnection, logger: Logger) async throws {
        let bodies = try await connection.query("SELECT body FROM alert WHERE containments_placed IS NULL", logger: logger).collect()
        for row in bodies {
            let alert = try PostgresCoding.decodeAlert(try row.decode(String.self))
            try await connection.query(statsUpdate(alert), logger: logger)
        }
    }
}
