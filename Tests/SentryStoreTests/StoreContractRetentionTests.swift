import Foundation
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryCore
@testable import SentryEngine

private typealias S = StatsFixtures

/// `SENTRY_RETENTION` on every store: finished alerts closed before the cutoff go with their containments,
/// journal, timers and outbox rows; everything else stays, and so does the whole audit chain.
@Suite struct StoreContractRetentionTests {
    static let ip = Subject(ip: "203.0.113.9")

    static func alerts() -> [Alert] {
        let old = 500.0 * 24
        return [
            S.alert("A-OLD1", playbook: "p", detection: "d", subject: ip, hoursAgo: old, ackAfter: 60, resolveAfter: 600, containments: [.released]),
            S.alert("A-OLD2", playbook: "p", detection: "d", subject: ip, hoursAgo: old - 1, resolveAfter: 60, dismiss: true),
            S.alert("A-OLDOPEN", playbook: "p", detection: "d", subject: ip, hoursAgo: old),
            S.alert("A-OLDACTIVE", playbook: "p", detection: "d", subject: ip, hoursAgo: old, resolveAfter: 600, containments: [.active]),
            S.alert("A-RECENT", playbook: "p", detection: "d", subject: ip, hoursAgo: 48, resolveAfter: 600),
        ]
    }

    @Test(arguments: StoreKind.allCases) func oldFinishedAlertsGoAndTheAuditChainStays(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await StatsFixtures.seed(store, Self.alerts())
        let engine = AlertEngine(store: store)
        _ = try await store.remember(containmentID: "C-A-OLD1-0", key: "rule", value: "deny 203.0.113.9")
        _ = try await store.remember(containmentID: "C-A-OLDACTIVE-0", key: "rule", value: "deny 203.0.113.9")
        let cutoff = S.now.addingTimeInterval(-400 * 86_400)
        #expect(try await store.retentionCandidates(closedBefore: cutoff, limit: 10) == ["A-OLD1", "A-OLDACTIVE", "A-OLD2"])
        #expect(try await store.retentionCandidates(closedBefore: cutoff, limit: 1) == ["A-OLD1"])
        let auditBefore = try await store.auditEntries(after: 0, limit: 1_000)

        #expect(try await engine.removeRetired(closedBefore: cutoff, now: S.now) == 2)
        #expect(try await store.alert(id: "A-OLD1") == nil)
        #expect(try await store.alert(id: "A-OLD2") == nil)
        #expect(try await store.alertID(forContainment: "C-A-OLD1-0") == nil)
        #expect(try await store.recall(containmentID: "C-A-OLD1-0").isEmpty)
        #expect(try await store.outbox(alertID: "A-OLD1").isEmpty)
        // Kept: open, a block still in place (its journal too), and closed within the retention.
        for id in ["A-OLDOPEN", "A-OLDACTIVE", "A-RECENT"] { #expect(try await store.alert(id: id) != nil, "\(id) kept") }
        #expect(try await store.alertID(forContainment: "C-A-OLDACTIVE-0") == "A-OLDACTIVE")
        #expect(try await store.recall(containmentID: "C-A-OLDACTIVE-0") == ["rule": "deny 203.0.113.9"])

        // Every audit entry is still there, one more names what went, and the chain verifies.
        let auditAfter = try await store.auditEntries(after: 0, limit: 1_000)
        #expect(Array(auditAfter.prefix(auditBefore.count)) == auditBefore)
        #expect(auditAfter.count == auditBefore.count + 1)
        #expect(auditAfter.last?.action == "retention.removed" && auditAfter.last?.detail.hasSuffix("A-OLD1 A-OLD2") == true)
        #expect(AuditChain.verify(auditAfter) == .intact(entries: auditAfter.count))
        // The stats of the period no longer count them; a second pass finds nothing more.
        #expect(
            try await store.statsRows(createdFrom: S.now.addingTimeInterval(-600 * 86_400), to: S.now).map(\.alertID).sorted() == [
                "A-OLDACTIVE", "A-OLDOPEN", "A-RECENT",
            ])
        #expect(try await engine.removeRetired(closedBefore: cutoff, now: S.now) == 0)
    }

    @Test(arguments: StoreKind.allCases) func anAlertWithWorkLeftStays(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let alerts = Self.alerts()
        try await StatsFixtures.seed(store, alerts)
        let engine = AlertEngine(store: store)
        // A thread reply still to post and a timer on the two old finished alerts.
        try await store.transaction { tx in
            _ = try await tx.enqueue(
                OutboxItem(effect: .replyInThread(text: "late"), alertID: "A-OLD1", idempotencyKey: "k-late", ordered: true), now: S.now)
            try await tx.write(
                TransitionRecord(
                    Transition(alert: nil, outcome: .applied, effects: [.scheduleTimer(.ackTimeout, at: S.now)]), alertID: "A-OLD2", revision: nil),
                now: S.now)
        }
        let cutoff = S.now.addingTimeInterval(-400 * 86_400)
        #expect(try await engine.removeRetired(closedBefore: cutoff, now: S.now) == 0)
        #expect(try await store.alert(id: "A-OLD1") != nil)
        #expect(try await store.alert(id: "A-OLD2") != nil)
    }
}
