import Foundation
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryCore

private typealias S = StatsFixtures

/// Not a test: a measurement, run by hand (`SENTRY_STATS_BENCH=1 swift test --filter StatsBenchmark`). It seeds
/// 100,000 alerts over 30 days in a SQLite file and prints how long `/sentry stats 30d` takes to read and count
/// them (the worst case: every alert in range). It asserts only the count, never a time.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SENTRY_STATS_BENCH"] == "1")) struct StatsBenchmark {
    @Test func hundredThousandAlerts() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stats-bench-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteAlertStore(path: path)
        let templates = S.alerts()
        let total = 100_000
        let span = 30.0 * 86_400 - 60
        for batch in stride(from: 0, to: total, by: 5_000) {
            try await store.transaction { tx in
                for index in batch..<(batch + 5_000) {
                    var alert = templates[index % 6]
                    let shift = S.now.addingTimeInterval(-span * Double(index + 1) / Double(total)).timeIntervalSince(alert.createdAt)
                    alert.id = "A-B\(index)"
                    alert.createdAt += shift
                    alert.acknowledgedAt = alert.acknowledgedAt.map { $0 + shift }
                    alert.closedAt = alert.closedAt.map { $0 + shift }
                    alert.groupKey = "bench-\(index)"
                    for item in alert.containments.indices { alert.containments[item].id = "C-B\(index)-\(item)" }
                    let created = Transition(alert: alert, outcome: .applied)
                    try await tx.write(TransitionRecord(created, alertID: alert.id, revision: nil), now: alert.createdAt)
                }
            }
        }
        let clock = ContinuousClock()
        var stats: AlertStats?
        var rows: [AlertStatsRow] = []
        let read = try await clock.measure {
            rows = try await store.statsRows(createdFrom: S.now.addingTimeInterval(-30 * 86_400), to: S.now)
        }
        let counted = clock.measure {
            stats = AlertStats(rows: rows, from: S.now.addingTimeInterval(-30 * 86_400), to: S.now)
            _ = StatsMessage.render(stats!, title: "Sentry — last 30 days")
        }
        #expect(stats?.total == total)
        print("stats 30d over \(total) alerts (SQLite file): read \(read), counted and rendered \(counted), total \(read + counted)")
    }
}
