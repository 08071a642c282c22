import Foundation
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryCore
@testable import SentryEngine

private typealias S = StatsFixtures

/// The weekly digest's timer row on every store: set once, fired once per week (the week is the outbox key),
/// set again for the next week, moved when the settings change and removed when the digest is off.
@Suite struct StoreContractDigestTests {
    static let schedule = DigestSchedule(parsing: "mon 09:00")!
    static let kind = WeeklyDigest.timerKind(schedule, channel: "C0SECALERTS")

    func posts(_ store: any AlertStore) async throws -> [OutboxEntry] {
        try await store.outbox(alertID: nil).filter { if case .postReport = $0.effect { true } else { false } }
    }

    @Test(arguments: StoreKind.allCases) func theDigestFiresOnceAndSetsNextWeek(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await StatsFixtures.seed(store, S.alerts())
        let engine = AlertEngine(store: store)
        let start = S.now.addingTimeInterval(-3_600)
        #expect(try await engine.scheduleDigest(Self.schedule, channel: "C0SECALERTS", now: start, calendar: S.utc) == S.now)
        // A restart sets nothing new: the row keeps its due time.
        #expect(try await engine.scheduleDigest(Self.schedule, channel: "C0SECALERTS", now: start.addingTimeInterval(60), calendar: S.utc) == S.now)
        #expect(
            try await store.timers(alertID: WeeklyDigest.timerAlertID) == [
                DueTimer(alertID: WeeklyDigest.timerAlertID, kind: Self.kind, dueAt: S.now)
            ])
        #expect(try await store.dueTimers(now: S.now.addingTimeInterval(-1), limit: 10).isEmpty)

        let due = try await store.dueTimers(now: S.now, limit: 10)
        #expect(due == [DueTimer(alertID: WeeklyDigest.timerAlertID, kind: Self.kind, dueAt: S.now)])
        let fired = try await engine.fireDigest(due[0], now: S.now, calendar: S.utc)
        #expect(fired.outcome == .applied)
        let posted = try await posts(store)
        #expect(posted.count == 1)
        #expect(posted.first?.idempotencyKey == "digest:2026-W49")
        #expect(posted.first?.alertID == nil)
        guard case .postReport(let channel, let text, let blocks)? = posted.first?.effect else { throw CancellationError() }
        #expect(channel == "C0SECALERTS")
        #expect(text.contains("Sentry weekly digest, 2026-W49") && text.contains("6 alerts") && text.contains("• `failed-logins` 4"))
        #expect(blocks.arrayValue?.first?["text"]?["text"]?.stringValue == ":bar_chart: Sentry weekly digest, 2026-W49")
        #expect(BlockKitCheck.messageProblem(text: text, blocks: blocks) == nil)
        let next = S.now.addingTimeInterval(7 * 86_400)
        #expect(try await store.timers(alertID: WeeklyDigest.timerAlertID).map(\.dueAt) == [next])

        // The same timer fired again (another replica read it as due too): nothing more.
        let again = try await engine.fireDigest(due[0], now: S.now.addingTimeInterval(1), calendar: S.utc)
        #expect(again.outcome != .applied)
        // A row for the same week set again (a replica that started meanwhile) fires without a second post.
        try await store.transaction { tx in
            try await tx.write(
                TransitionRecord(
                    Transition(alert: nil, outcome: .applied, effects: [.scheduleTimer(Self.kind, at: S.now.addingTimeInterval(5))]),
                    alertID: WeeklyDigest.timerAlertID, revision: nil), now: S.now)
        }
        let replayed = try await store.dueTimers(now: S.now.addingTimeInterval(5), limit: 10)
        #expect(replayed.count == 1)
        let second = try await engine.fireDigest(replayed[0], now: S.now.addingTimeInterval(5), calendar: S.utc)
        #expect(second.effects.isEmpty)
        #expect(try await posts(store).count == 1)
        let audit = try await store.auditEntries(after: 0, limit: 100).map(\.action)
        #expect(audit.filter { $0 == "digest.posted" }.count == 1)
        #expect(audit.contains("digest.skipped"))

        // The next week posts its own.
        let following = try await store.dueTimers(now: next, limit: 10)
        #expect(following.map(\.kind) == [Self.kind])
        _ = try await engine.fireDigest(following[0], now: next, calendar: S.utc)
        #expect(try await posts(store).map(\.idempotencyKey) == ["digest:2026-W49", "digest:2026-W50"])
    }

    @Test(arguments: StoreKind.allCases) func changedSettingsMoveTheRowAndOffRemovesIt(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        _ = try await engine.scheduleDigest(Self.schedule, channel: "C0SECALERTS", now: S.now, calendar: S.utc)
        let friday = DigestSchedule(parsing: "fri 17:30")!
        let due = try await engine.scheduleDigest(friday, channel: "C0OTHER", now: S.now, calendar: S.utc)
        #expect(due == S.now.addingTimeInterval(4 * 86_400 + 8.5 * 3_600))
        #expect(
            try await store.timers(alertID: WeeklyDigest.timerAlertID).map(\.kind) == [WeeklyDigest.timerKind(friday, channel: "C0OTHER")])
        #expect(try await engine.scheduleDigest(nil, channel: "C0OTHER", now: S.now, calendar: S.utc) == nil)
        #expect(try await store.timers(alertID: WeeklyDigest.timerAlertID).isEmpty)
        #expect(try await store.nextTimerDue() == nil)
    }
}
