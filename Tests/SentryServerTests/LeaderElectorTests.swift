import Foundation
import Logging
import SentryCore
import SentryServer
import SentryStore
import SentryTesting
import Testing

/// Two replicas' electors over one store, on a manual clock: one leads the pollers at a time, a leader whose
/// database stops answering steps down before its row can expire for the other, which takes over within
/// TTL + one interval; a leader that shuts down hands over at the other's next attempt.
@Suite struct LeaderElectorTests {
    /// The leadership row of a shared store, with a switch that makes this replica's calls fail (its database
    /// connection is gone).
    final class Replica: LeadershipStore, @unchecked Sendable {
        let shared: any LeadershipStore
        private let lock = NSLock()
        private var down = false
        private var started = 0
        private var stopped = 0

        init(_ shared: any LeadershipStore) { self.shared = shared }

        var cutOff: Bool {
            get { lock.withLock { down } }
            set { lock.withLock { down = newValue } }
        }
        var terms: (started: Int, stopped: Int) { lock.withLock { (started, stopped) } }

        struct Unreachable: Error {}

        func holdLeadership(_ role: String, holder: String, ttl: TimeInterval, now: Date, takeOver: Bool) async throws -> Bool {
            if cutOff { throw Unreachable() }
            return try await shared.holdLeadership(role, holder: holder, ttl: ttl, now: now, takeOver: takeOver)
        }

        func resignLeadership(_ role: String, holder: String) async throws {
            if cutOff { throw Unreachable() }
            try await shared.resignLeadership(role, holder: holder)
        }

        func leader(_ role: String, now: Date) async throws -> String? { try await shared.leader(role, now: now) }

        /// The pollers of one term: they run until the elector cancels them.
        func poll() async {
            lock.withLock { started += 1 }
            let (wait, _) = AsyncStream<Void>.makeStream()
            for await _ in wait {}
            lock.withLock { stopped += 1 }
        }
    }

    private func elector(_ replica: Replica, _ name: String, clock: ManualClock) -> LeaderElector {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return LeaderElector(store: replica, takeOver: false, holder: name, clock: clock, logger: logger) { await replica.poll() }
    }

    /// Lets both electors finish what the last step of the clock started, then checks they never both lead.
    private func settle(_ clock: ManualClock, _ a: LeaderElector, _ b: LeaderElector) async {
        _ = await clock.waitForSleepers(2)
        for _ in 0..<20 { await Task.yield() }
        #expect(!(a.isLeading && b.isLeading), "two leaders at once")
    }

    /// Replica a starts first and leads; b starts after it and follows.
    private func twoReplicasWithALeader() async -> (
        ManualClock, InMemoryAlertStore, Replica, Replica, LeaderElector, LeaderElector, Task<Void, any Error>, Task<Void, any Error>
    ) {
        let clock = ManualClock()
        let shared = InMemoryAlertStore()
        let (ra, rb) = (Replica(shared), Replica(shared))
        let (a, b) = (elector(ra, "a", clock: clock), elector(rb, "b", clock: clock))
        let runA = Task { try await a.run() }
        _ = await clock.waitForSleepers(1)
        let runB = Task { try await b.run() }
        await settle(clock, a, b)
        #expect(a.isLeading)
        return (clock, shared, ra, rb, a, b, runA, runB)
    }

    @Test func aLeaderCutOffFromTheDatabaseStepsDownBeforeTheOtherTakesOver() async throws {
        let (clock, shared, ra, rb, a, b, runA, runB) = await twoReplicasWithALeader()
        #expect(!b.isLeading)
        #expect(try await shared.leader(LeaderElector.role, now: clock.now()) == "a")

        ra.cutOff = true
        var aSteppedDown: Double?
        var bLeads: Double?
        var elapsed = 0.0
        while elapsed < 30, bLeads == nil {
            clock.advance(by: 0.5)
            elapsed += 0.5
            await settle(clock, a, b)
            if aSteppedDown == nil, !a.isLeading { aSteppedDown = elapsed }
            if b.isLeading { bLeads = elapsed }
        }
        // a won its term at 0 s and could not renew it: it stops a second before the row's 15 s run out.
        let down = try #require(aSteppedDown)
        #expect(down <= 14.5)
        // b takes over once the row has expired, within TTL + one interval.
        let up = try #require(bLeads)
        #expect(up >= 15 && up <= 20.5)
        #expect(ra.terms == (1, 1))
        #expect(rb.terms.started == 1)
        runA.cancel()
        runB.cancel()
        _ = try? await runA.value
        _ = try? await runB.value
    }

    @Test func aLeaderShuttingDownHandsOverAtTheOthersNextAttempt() async throws {
        let (clock, shared, ra, rb, a, b, runA, runB) = await twoReplicasWithALeader()
        // a stops: it gives the row up on the way out.
        runA.cancel()
        _ = try? await runA.value
        #expect(!a.isLeading)
        #expect(ra.terms == (1, 1))
        #expect(try await shared.leader(LeaderElector.role, now: clock.now()) == nil)
        // b's next attempt comes within one interval, long before a's 15 s term would have run out.
        clock.advance(by: 5)
        _ = await clock.waitForSleepers(1)
        for _ in 0..<20 { await Task.yield() }
        #expect(b.isLeading)
        #expect(try await shared.leader(LeaderElector.role, now: clock.now()) == "b")
        runB.cancel()
        _ = try? await runB.value
        #expect(rb.terms == (1, 1))
    }
}
