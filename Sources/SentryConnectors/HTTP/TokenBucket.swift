import Foundation
import SentryCore

/// A token bucket shared by every caller of one upstream budget (Meraki: 10 requests/s per organisation;
/// SCIM writes: 180/min). `acquire` waits until a token is free; nothing is dropped.
public actor TokenBucket {
    public let capacity: Double
    public let refillPerSecond: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant
    private let clock = ContinuousClock()
    private let sleep: @Sendable (Duration) async throws -> Void
    /// Total time callers spent waiting, for metrics.
    public private(set) var waited: Duration = .zero

    public init(capacity: Double, refillPerSecond: Double, sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }) {
        precondition(capacity >= 1 && refillPerSecond > 0)
        self.capacity = capacity
        self.refillPerSecond = refillPerSecond
        self.tokens = capacity
        self.last = ContinuousClock.now
        self.sleep = sleep
    }

    /// Takes one token, waiting for it when the bucket is empty.
    public func acquire() async throws {
        while true {
            refill()
            if tokens >= 1 {
                tokens -= 1
                return
            }
            let wait = Duration.seconds((1 - tokens) / refillPerSecond)
            waited += wait
            try await sleep(wait)
        }
    }

    /// Empties the bucket after the upstream said 429, so every caller slows down, not just the one told.
    public func drain(for retryAfter: Duration) {
        refill()
        let seconds = retryAfter.inSeconds
        tokens = min(tokens, -seconds * refillPerSecond)
    }

    private func refill() {
        let now = clock.now
        let elapsed = last.duration(to: now)
        last = now
        let seconds = elapsed.inSeconds
        tokens = min(capacity, tokens + seconds * refillPerSecond)
    }
}
