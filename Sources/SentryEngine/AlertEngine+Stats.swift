import Foundation
import SentryCore
import SentryStore

/// The numbers of `/sentry stats` and of the weekly digest: one creation-time range read from the store, counted
/// in SentryCore.
extension AlertEngine {
    /// The alerts created in the `days` days before `now`; the rows read also cover the 7 calendar days of the
    /// spark line when the period is shorter.
    public func stats(days: Int, now: Date, calendar: Calendar = .current) async throws -> AlertStats {
        let from = now.addingTimeInterval(-Double(days) * 86_400)
        let sparkStart = calendar.date(byAdding: .day, value: -6, to: calendar.startOfDay(for: now)) ?? from
        let rows = try await store.statsRows(createdFrom: min(from, sparkStart), to: now)
        return AlertStats(rows: rows, from: from, to: now, calendar: calendar)
    }
}
