import Foundation
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryCore

private typealias S = StatsFixtures

/// `statsRows`: every store returns the same rows for a creation-time range, with the fields the numbers need.
@Suite struct StoreContractStatsTests {
    @Test(arguments: StoreKind.allCases) func rowsOfARangeCarryWhatTheNumbersNeed(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let alerts = S.alerts()
        try await S.seed(store, alerts.reversed())
        let from = S.now.addingTimeInterval(-7 * 86_400)
        let rows = try await store.statsRows(createdFrom: from, to: S.now)
        // Oldest first, the 8-day-old alert left out, each row as the alert says.
        let expected = alerts.filter { $0.createdAt >= from }.sorted { $0.createdAt < $1.createdAt }.map(AlertStatsRow.init)
        #expect(rows.map(\.alertID) == ["A-6", "A-5", "A-4", "A-3", "A-2", "A-1"])
        #expect(rows == expected)
        #expect(AlertStats(rows: rows, from: from, to: S.now, calendar: S.utc) == StatsFixtures.week())
        // The range is half open: an alert created exactly at `to` belongs to the next range.
        let first = try #require(alerts.first { $0.id == "A-1" })
        #expect(try await store.statsRows(createdFrom: from, to: first.createdAt).map(\.alertID) == ["A-6", "A-5", "A-4", "A-3", "A-2"])
        #expect(try await store.statsRows(createdFrom: first.createdAt, to: S.now).map(\.alertID) == ["A-1"])
        #expect(try await store.statsRows(createdFrom: S.now, to: S.now.addingTimeInterval(86_400)) == [])
    }
}
