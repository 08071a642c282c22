import Foundation
import GRDB
import SentryTestSupport
import Testing

@testable import SentryCore
@testable import SentryStore

private typealias S = StatsFixtures

/// A store written before the stats columns existed (schema v7): opening it derives the columns from each alert's
/// body, so `/sentry stats` counts the old alerts exactly as it counts new ones.
@Suite struct SQLiteStatsMigrationTests {
    @Test func openingAStoreFromBeforeTheColumnsDerivesThemFromTheBodies() async throws {
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let queue = try DatabaseQueue(configuration: configuration)
        try SQLiteAlertStore.migrator.migrate(queue, upTo: "v7-effect-leases")
        let alerts = S.alerts()
        try await queue.write { db in
            #expect(try !db.columns(in: "alert").contains { $0.name == "containments_placed" })
            for alert in alerts {
                try db.execute(
                    sql: """
                        INSERT INTO alert (id, group_key, status, group_until, created_at, updated_at, revision, body)
                        VALUES (?, ?, ?, ?, ?, ?, 1, ?)
                        """,
                    arguments: [
                        alert.id, alert.groupKey, alert.status.rawValue, alert.groupUntil.timeIntervalSince1970,
                        alert.createdAt.timeIntervalSince1970,
                        alert.createdAt.timeIntervalSince1970, try SQLiteAlertStore.encodeAlert(alert),
                    ])
            }
        }
        let store = try SQLiteAlertStore(writer: queue)
        let from = S.now.addingTimeInterval(-30 * 86_400)
        let rows = try await store.statsRows(createdFrom: from, to: S.now)
        #expect(rows == alerts.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }.map(AlertStatsRow.init))
        // A-2's block was carried out and rolled back, its second one carried out and still active.
        let twice = try #require(rows.first { $0.alertID == "A-2" })
        #expect(twice.containmentsPlaced == 2 && twice.containmentsApproved == 2 && twice.containmentsRolledBack == 1)
        #expect(twice.playbookID == "failed-logins" && twice.subjectLabel == "203.0.113.7")
        // Counted from the derived columns, the old week gives what the same alerts written today give.
        let fresh = try SQLiteAlertStore.inMemory()
        try await StatsFixtures.seed(fresh, alerts)
        let written = try await fresh.statsRows(createdFrom: from, to: S.now)
        #expect(AlertStats(rows: rows, from: from, to: S.now, calendar: S.utc) == AlertStats(rows: written, from: from, to: S.now, calendar: S.utc))
    }
}
