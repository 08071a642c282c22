import Foundation
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryCore

private typealias F = CoreFixtures

/// The leadership row, on every store: one holder per role until its term runs out.
@Suite struct StoreContractLeadershipTests {
    private func at(_ seconds: TimeInterval) -> Date { F.t0.addingTimeInterval(seconds) }

    @Test(arguments: StoreKind.allCases) func oneHolderUntilItsTermRunsOut(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        #expect(try await store.leader("pollers", now: F.t0) == nil)
        #expect(try await store.holdLeadership("pollers", holder: "a", ttl: 15, now: F.t0, takeOver: false))
        #expect(try await store.leader("pollers", now: at(1)) == "a")
        #expect(!(try await store.holdLeadership("pollers", holder: "b", ttl: 15, now: at(5), takeOver: false)))
        // Another role is another row.
        #expect(try await store.holdLeadership("other", holder: "b", ttl: 15, now: at(5), takeOver: false))
        // Renewed at 10 s, a's term runs to 25 s.
        #expect(try await store.holdLeadership("pollers", holder: "a", ttl: 15, now: at(10), takeOver: false))
        #expect(!(try await store.holdLeadership("pollers", holder: "b", ttl: 15, now: at(24), takeOver: false)))
        #expect(try await store.leader("pollers", now: at(25)) == nil)
        #expect(try await store.holdLeadership("pollers", holder: "b", ttl: 15, now: at(25), takeOver: false))
        #expect(!(try await store.holdLeadership("pollers", holder: "a", ttl: 15, now: at(26), takeOver: false)))
        #expect(try await store.leader("pollers", now: at(26)) == "b")
    }

    @Test(arguments: StoreKind.allCases) func resigningFreesTheRoleOnlyForItsHolder(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        #expect(try await store.holdLeadership("pollers", holder: "a", ttl: 15, now: F.t0, takeOver: false))
        try await store.resignLeadership("pollers", holder: "b")
        #expect(try await store.leader("pollers", now: at(1)) == "a")
        try await store.resignLeadership("pollers", holder: "a")
        #expect(try await store.leader("pollers", now: at(1)) == nil)
        #expect(try await store.holdLeadership("pollers", holder: "b", ttl: 15, now: at(2), takeOver: false))
    }

    @Test(arguments: StoreKind.allCases) func takingOverIgnoresTheLastHolder(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        #expect(try await store.holdLeadership("pollers", holder: "before-restart", ttl: 15, now: F.t0, takeOver: false))
        #expect(try await store.holdLeadership("pollers", holder: "after-restart", ttl: 15, now: at(1), takeOver: true))
        #expect(try await store.leader("pollers", now: at(2)) == "after-restart")
    }
}
