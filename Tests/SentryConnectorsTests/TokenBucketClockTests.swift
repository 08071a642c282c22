import Foundation
import SentryConnectors
import SentryCore
import SentryTesting
import Testing

extension Connectors {
    /// The token bucket and the manual clock that drives it: turns in call order, waits that end when the clock
    /// reaches them, a cancelled waiter that gives its turn back.
    @Suite struct TokenBucketClockTests {
        @Test func waitersAreServedInCallOrderAsTheClockMoves() async throws {
            let clock = ManualClock()
            let bucket = TokenBucket(capacity: 1, refillPerSecond: 1, clock: clock)
            try await bucket.acquire()
            let order = Locked([Int]())
            var waiters: [Task<Void, any Error>] = []
            for n in 1...3 {
                waiters.append(
                    Task {
                        try await bucket.acquire()
                        order.withLock { $0.append(n) }
                    })
                #expect(await clock.waitForSleepers(n))
            }
            // Each reservation waits for the debt of those before it: 1 s, 2 s, 3 s.
            #expect(clock.requestedWaits == [.seconds(1), .seconds(2), .seconds(3)])
            clock.advance(by: 1)
            try await waiters[0].value
            #expect(order.current == [1])
            #expect(clock.sleeping == 2)
            clock.advance(by: 2)
            try await waiters[1].value
            try await waiters[2].value
            #expect(order.current == [1, 2, 3])
        }

        @Test func aCancelledWaiterGivesItsTurnBack() async throws {
            let clock = ManualClock()
            let bucket = TokenBucket(capacity: 1, refillPerSecond: 1, clock: clock)
            try await bucket.acquire()
            let first = Task { try await bucket.acquire() }
            #expect(await clock.waitForSleepers())
            first.cancel()
            await #expect(throws: CancellationError.self) { try await first.value }
            // The next caller waits 1 s, not 2: the cancelled turn was handed back.
            let second = Task { try await bucket.acquire() }
            #expect(await clock.waitForSleepers())
            #expect(clock.requestedWaits == [.seconds(1), .seconds(1)])
            clock.advance(by: 1)
            try await second.value
        }

        @Test func aDrainedBucketHoldsEveryCallerForTheRetryAfter() async throws {
            let clock = ManualClock(waits: .refused)
            let bucket = TokenBucket(capacity: 5, refillPerSecond: 4, clock: clock)
            await bucket.drain(for: .seconds(2))
            // Two seconds of refill owed, then the caller's own token: (8 + 1) / 4 s.
            await #expect(throws: CancellationError.self) { try await bucket.acquire() }
            #expect(clock.requestedWaits == [.milliseconds(2_250)])
        }

        @Test func theManualClockMovesWallTimeAndDeadlinesTogether() async throws {
            let start = Date(timeIntervalSince1970: 1_795_000_000)
            let clock = ManualClock(start)
            let before = clock.instant()
            let sleeper = Task { try await clock.sleep(for: .seconds(30)) }
            #expect(await clock.waitForSleepers())
            clock.advance(by: 29)
            #expect(clock.sleeping == 1)
            clock.advance(by: 1)
            try await sleeper.value
            #expect(clock.now() == start.addingTimeInterval(30))
            #expect(before.duration(to: clock.instant()) == .seconds(30))
            // Setting the wall clock moves no deadline.
            clock.set(start)
            #expect(before.duration(to: clock.instant()) == .seconds(30))
            // Nobody sleeps: the wait for one gives up after its bound.
            #expect(await clock.waitForSleepers(timeout: .milliseconds(50)) == false)
        }
    }
}

extension Connectors.TokenBucketClockTests {
    @Test func aWaiterOvertakenByA429QueuesAgainBehindIt() async throws {
        let clock = ManualClock()
        let bucket = TokenBucket(capacity: 1, refillPerSecond: 1, clock: clock)
        try await bucket.acquire()
        let waiter = Task { try await bucket.acquire() }
        #expect(await clock.waitForSleepers())
        // Its turn was 1 s away when the upstream said 429 with Retry-After: 5.
        await bucket.drain(for: .seconds(5))
        clock.advance(by: 1)
        #expect(await clock.waitForSleepers())
        // Woken at 1 s, it waits again until the Retry-After has passed: 5 s after the 429.
        #expect(clock.requestedWaits == [.seconds(1), .seconds(4)])
        clock.advance(by: 3)
        #expect(clock.sleeping == 1)
        clock.advance(by: 1)
        try await waiter.value
    }
}
