import Foundation
import SentryEngine
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryCore

private typealias S = StatsFixtures
private typealias F = CoreFixtures

/// What the Home tab reads, on every store: the exact number of open alerts however many, every alert that
/// holds an active block whatever its own status, and the snoozes in force from their timers.
@Suite struct StoreContractHomeTests {
    @Test(arguments: StoreKind.allCases) func openCountsAndActiveBlocksAreReadWhateverTheAlertsStatus(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        // StatsFixtures' week: A-1 acknowledged, A-5 open, A-2 resolved with one active and one released block, A-3
        // resolved with a rejected one, A-4 dismissed, A-6 and A-OLD resolved.
        try await S.seed(store, S.alerts())
        #expect(try await store.alertCount(statuses: [.open, .acknowledged]) == 2)
        #expect(try await store.alertCount(statuses: [.resolved]) == 4)
        #expect(try await store.alertCount(statuses: [.dismissed]) == 1)
        #expect(try await store.alertsHoldingActiveContainments(limit: 10).map(\.id) == ["A-2"])

        // Newest first, and the limit holds.
        try await S.seed(
            store,
            [
                S.alert("A-7", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.8"), hoursAgo: 0.5, containments: [.active]),
                S.alert(
                    "A-8", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.9"), hoursAgo: 300, resolveAfter: 60, dismiss: true,
                    containments: [.active]),
            ])
        #expect(try await store.alertsHoldingActiveContainments(limit: 10).map(\.id) == ["A-7", "A-2", "A-8"])
        #expect(try await store.alertsHoldingActiveContainments(limit: 2).map(\.id) == ["A-7", "A-2"])
        #expect(try await store.alertCount(statuses: [.open, .acknowledged]) == 3)
        #expect(try await store.alertCount(statuses: []) == 0)
    }

    @Test(arguments: StoreKind.allCases) func snoozesInForceAreReadFromTheirTimersSoonestFirst(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        for (index, id) in ["A1", "A2", "A3"].enumerated() {
            _ = try await engine.ingest(
                F.detection(id: "d\(index)", subject: Subject(ip: "198.51.100.\(index + 1)")), playbook: F.playbook(ackTimeout: 900),
                channel: F.channel, newAlertID: id,
                now: F.t0)
        }
        for (id, duration) in [("A1", 7_200), ("A3", 600)] {
            try await engine.apply(
                .snoozeRequested(SnoozeRequest(userID: F.alice, mayAct: true, duration: duration, reason: "scanner")), to: id, now: F.t0)
        }
        #expect(try await store.alerts(withTimer: .snoozeExpiry, limit: 10).map(\.id) == ["A3", "A1"])
        #expect(try await store.alerts(withTimer: .snoozeExpiry, limit: 1).map(\.id) == ["A3"])
        #expect(try await store.alerts(withTimer: .confirmTimeout, limit: 10).isEmpty)

        // The snooze of A3 runs out: its timer goes, and with it the alert from the list.
        let due = try await store.dueTimers(now: F.t0.addingTimeInterval(601), limit: 10)
        for timer in due where timer.kind == .snoozeExpiry { _ = try await engine.fire(timer, now: F.t0.addingTimeInterval(601)) }
        #expect(try await store.alerts(withTimer: .snoozeExpiry, limit: 10).map(\.id) == ["A1"])
    }
}
