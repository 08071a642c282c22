import Foundation
import SentryCore

/// What a client draws from before each call, shared by every caller of one upstream budget (a Meraki
/// organisation, Slack's Audit Logs, SCIM writes). `TokenBucket` is the real one.
public protocol RequestBudget: Sendable {
    /// Waits until one more request may be sent.
    func acquire() async throws
    /// Told after a 429, so every caller slows down, not just the one that was answered.
    func drain(for retryAfter: Duration) async
}

/// A token bucket: `capacity` calls at once, then `refillPerSecond`. Callers wait their turn in call order; nothing
/// is dropped. The one bucket of the code base: request budgets (Meraki 10 requests/s per organisation, SCIM writes
/// 180/min, Audit Logs 50/min) and Slack's posting pace (`SlackPacer`).
public actor TokenBucket: RequestBudget {
    public let capacity: Double
    public let refillPerSecond: Double
    /// Below zero while callers wait: each has reserved the token it waits for.
    private var tokens: Double
    private var last: ContinuousClock.Instant
    /// Counts `drain` calls, so a waiter can tell that a 429 came while it waited.
    private var drains = 0
    private let clock: any SentryClock
    /// Told each wait before it starts (metrics).
    private let onWait: @Sendable (Duration) -> Void

    public init(
        capacity: Double, refillPerSecond: Double, clock: any SentryClock = SystemClock(), onWait: @escaping @Sendable (Duration) -> Void = { _ in }
    ) {
        precondition(capacity >= 1 && refillPerSecond > 0)
        self.capacity = capacity
        self.refillPerSecond = refillPerSecond
        self.tokens = capacity
        self.clock = clock
        self.last = clock.instant()
        self.onWait = onWait
    }

    /// Takes one token, waiting for it when the bucket is empty. A caller cancelled while it waits gives its turn
    /// back; one whose wait a 429 overtook (`drain`) queues again behind it.
    public func acquire() async throws {
        while let wait = reserve() {
            onWait(wait)
            let drained = drains
            do {
                try await clock.sleep(until: last + wait)
            } catch {
                tokens += 1
                throw error
            }
            guard drains != drained else { return }
            tokens += 1
        }
    }

    /// Empties the bucket after the upstream said 429, so every caller slows down, not just the one told.
    public func drain(for retryAfter: Duration) {
        refill()
        drains += 1
        let seconds = retryAfter.inSeconds
        tokens = min(tokens, -seconds * refillPerSecond)
    }

    /// Reserves one token; returns how long after `last` (now) the caller's turn comes (nil: it may go now).
    /// Reservations are served in the order they were made: each one's wait covers the debt of those before it.
    private func reserve() -> Duration? {
        refill()
        tokens -= 1
        return tokens >= 0 ? nil : .seconds(-tokens / refillPerSecond)
    }

    private func refill() {
        let now = clock.instant()
        let elapsed = last.duration(to: now)
        last = now
        let seconds = elapsed.inSeconds
        tokens = min(capacity, tokens + seconds * refillPerSecond)
    }
}
