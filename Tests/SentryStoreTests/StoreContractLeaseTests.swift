import Foundation
import SentryEngine
import SentryPostgres
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryCore

private typealias F = CoreFixtures

/// Effect leases, on every store: a claimed effect is one runner's until its lease runs out; only that runner may
/// count its attempts and finish it; a lane's later effects wait while its head is leased; and on PostgreSQL,
/// runners of two stores over one database never claim the same row.
@Suite struct StoreContractLeaseTests {
    private func at(_ seconds: TimeInterval) -> Date { F.t0.addingTimeInterval(seconds) }

    /// Two alerts (A1 and A2, each with its post), and an update queued behind A1's post.
    private func twoAlerts(_ store: any SentryStorage) async throws {
        let engine = AlertEngine(store: store)
        _ = try await engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        _ = try await engine.ingest(
            F.detection(id: "d2", subject: Subject(ip: "198.51.100.2")), playbook: F.playbook(), channel: F.channel, newAlertID: "A2", now: F.t0)
        _ = try await engine.ingest(F.detection(id: "d3"), playbook: F.playbook(), channel: F.channel, newAlertID: "X3", now: at(1))
    }

    @Test(arguments: StoreKind.allCases) func aClaimedEffectIsNotClaimedAgainUntilItsLeaseRunsOut(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await twoAlerts(store)
        let first = try await store.claimEffects(owner: "r1", now: at(2), lease: 30, limit: 10)
        #expect(first.map(\.alertID) == ["A1", "A2"])
        #expect(first.map(\.effect) == [.postAlert, .postAlert])
        // Another runner finds nothing: both heads are leased, and A1's update waits behind its leased post.
        #expect(try await store.claimEffects(owner: "r2", now: at(10), lease: 30, limit: 10) == [])
        // The holder gets its own back, renewed (it knows which it still runs; the others it takes back at once).
        #expect(try await store.claimEffects(owner: "r1", now: at(10), lease: 30, limit: 10).map(\.id) == first.map(\.id))
        // A look at what is due still shows the heads.
        #expect(try await store.dueEffects(now: at(10), limit: 10).map(\.id) == first.map(\.id))
        #expect(try await store.claimEffects(owner: "r2", now: at(39), lease: 30, limit: 10) == [])
        // That renewed lease runs out at 40 s: another runner takes both over, and still not the update behind A1's post.
        let taken = try await store.claimEffects(owner: "r2", now: at(40), lease: 30, limit: 10)
        #expect(taken.map(\.id) == first.map(\.id))
    }

    @Test(arguments: StoreKind.allCases) func onlyTheLeaseHolderCountsAttemptsAndFinishes(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        try await twoAlerts(store)
        let post = try #require(try await store.claimEffects(owner: "r1", now: at(2), lease: 30, limit: 1).first)
        let r1 = EffectClaim(id: post.id, owner: "r1")
        #expect(try await engine.beginAttempt(r1) == 0)
        await #expect(throws: StoreError.leaseLost(effectID: post.id)) {
            try await engine.beginAttempt(EffectClaim(id: post.id, owner: "r2"))
        }
        // r1 is too slow: its lease runs out and r2 takes the post over.
        #expect(try await store.claimEffects(owner: "r2", now: at(40), lease: 30, limit: 1).map(\.id) == [post.id])
        let r2 = EffectClaim(id: post.id, owner: "r2")
        let before = (try await store.alert(id: "A1"), try await store.outbox(alertID: "A1"), try await store.auditEntries(after: 0, limit: 100))
        // r1's late result writes nothing at all: not the outbox row, not the alert, not the audit chain.
        await #expect(throws: StoreError.leaseLost(effectID: post.id)) {
            try await engine.apply(.messagePosted(MessageRef(channel: F.channel, ts: "1.1")), to: "A1", now: self.at(41), completing: r1)
        }
        await #expect(throws: StoreError.leaseLost(effectID: post.id)) { try await engine.beginAttempt(r1) }
        await #expect(throws: StoreError.leaseLost(effectID: post.id)) {
            try await engine.retryEffect(r1, error: "timeout", at: self.at(50), attemptDelta: 1)
        }
        await #expect(throws: StoreError.leaseLost(effectID: post.id)) {
            try await engine.giveUp(r1, error: "timeout", alertID: "A1", events: [.postFailed(reason: "timeout")], now: self.at(41))
        }
        #expect(try await engine.completeEffects([post.id], owner: "r1", now: at(41)) == [post.id])
        #expect(try await store.alert(id: "A1") == before.0)
        #expect(try await store.outbox(alertID: "A1") == before.1)
        #expect(try await store.auditEntries(after: 0, limit: 100) == before.2)
        // r2 counts its own attempt (after r1's one) and records the result.
        #expect(try await engine.beginAttempt(r2) == 1)
        try await engine.apply(.messagePosted(MessageRef(channel: F.channel, ts: "1.2")), to: "A1", now: at(42), completing: r2)
        #expect(try await store.alert(id: "A1")?.message?.ts == "1.2")
        #expect(try await store.outbox(alertID: "A1").first?.state == "done")
        // Once finished, nobody holds it: not even r2 can finish it twice.
        #expect(try await engine.completeEffects([post.id], owner: "r2", now: at(43)) == [post.id])
        // And the update behind it is now the head of A1's lane.
        let next = try await store.claimEffects(owner: "r1", now: at(44), lease: 30, limit: 10)
        #expect(next.filter { $0.alertID == "A1" }.map(\.effect) == [.updateMessage])
    }

    @Test(arguments: StoreKind.allCases) func renewingKeepsALeaseAndARetryFreesIt(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await twoAlerts(store)
        let claimed = try await store.claimEffects(owner: "r1", now: at(2), lease: 30, limit: 10)
        let ids = claimed.map(\.id)
        #expect(try await store.renewLeases(ids, owner: "r1", until: at(62)) == Set(ids))
        // Someone else's renewal changes nothing.
        #expect(try await store.renewLeases(ids, owner: "r2", until: at(500)) == [])
        #expect(try await store.claimEffects(owner: "r2", now: at(40), lease: 30, limit: 10) == [])
        // A retry hands the effect back at its time, to whichever runner claims it then.
        try await store.retryEffect(EffectClaim(id: ids[1], owner: "r1"), error: "http_502", at: at(45), attemptDelta: 1)
        #expect(try await store.claimEffects(owner: "r2", now: at(44), lease: 30, limit: 10) == [])
        let retried = try await store.claimEffects(owner: "r2", now: at(45), lease: 30, limit: 10)
        #expect(retried.map(\.id) == [ids[1]])
        #expect(retried.first?.attempts == 1)
        #expect(retried.first?.lastError == "http_502")
        // The lease renewed to 62 s holds A1's post until then.
        #expect(try await store.claimEffects(owner: "r3", now: at(61), lease: 30, limit: 10) == [])
        #expect(try await store.claimEffects(owner: "r3", now: at(62), lease: 30, limit: 10).map(\.id) == [ids[0]])
    }

    @Test(arguments: StoreKind.allCases) func freeingLeasesIsForAStoreOnlyOneProcessUses(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        try await twoAlerts(store)
        let claimed = try await store.claimEffects(owner: "crashed", now: at(2), lease: 30, limit: 10)
        try await store.releaseLeases()
        let again = try await store.claimEffects(owner: "restarted", now: at(3), lease: 30, limit: 10)
        if store.isShared {
            // Another replica may still be running those: they wait for their leases to run out.
            #expect(kind == .postgres)
            #expect(again == [])
        } else {
            #expect(again.map(\.id) == claimed.map(\.id))
        }
    }

    @Test(arguments: StoreKind.allCases) func concurrentClaimsNeverTakeOneEffectTwice(_ kind: StoreKind) async throws {
        let settings = kind == .postgres ? try await PostgresTestDatabase.create() : nil
        let first = try await kind == .postgres ? PostgresAlertStore.open(settings: settings!, logger: PostgresTestDatabase.logger) : kind.make()
        // On PostgreSQL, a second store over the same database stands for a second replica.
        let second = try await kind == .postgres ? PostgresAlertStore.open(settings: settings!, logger: PostgresTestDatabase.logger) : first
        let engine = AlertEngine(store: first)
        for index in 0..<60 {
            _ = try await engine.ingest(
                F.detection(id: "d\(index)", subject: Subject(ip: "198.51.100.\(index + 1)")), playbook: F.playbook(), channel: F.channel,
                newAlertID: "A\(index)", now: F.t0)
        }
        let claims = try await withThrowingTaskGroup(of: Set<Int64>.self) { group in
            for runner in 0..<6 {
                let store = runner.isMultiple(of: 2) ? first : second
                group.addTask {
                    // A runner gets its own leases back with each claim: what it holds is the union.
                    var mine: Set<Int64> = []
                    for _ in 0..<8 {
                        mine.formUnion(try await store.claimEffects(owner: "r\(runner)", now: self.at(1), lease: 30, limit: 4 + mine.count).map(\.id))
                    }
                    return mine
                }
            }
            var all: [Int64] = []
            for try await ids in group { all += ids }
            return all
        }
        // Every effect is held by exactly one runner.
        #expect(claims.count == 60)
        #expect(Set(claims).count == 60)
    }
}
