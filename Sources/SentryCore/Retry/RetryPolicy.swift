import Foundation

/// How often and how patiently a failed call is repeated: a connector's HTTP call in place, or an outbox effect
/// rescheduled by the effect runner. The one backoff computation of the code base.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in total, the first included.
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Fraction each backoff is randomised by in either direction (0.5: 50 % to 150 %), so callers that failed
    /// together do not retry together.
    public var jitter: Double
    /// A `Retry-After` longer than this is not waited out here; the error goes to the caller to reschedule.
    public var maxRetryAfter: Duration
    /// Wait used when a 429 carries no usable `Retry-After`.
    public var defaultRetryAfter: Duration

    public init(
        maxAttempts: Int = 5,
        baseDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(30),
        jitter: Double = 0.5,
        maxRetryAfter: Duration = .seconds(60),
        defaultRetryAfter: Duration = .seconds(1)
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitter = min(max(jitter, 0), 1)
        self.maxRetryAfter = maxRetryAfter
        self.defaultRetryAfter = defaultRetryAfter
    }

    public static let standard = RetryPolicy()
    /// One attempt, no retries.
    public static let never = RetryPolicy(maxAttempts: 1)
    /// Outbox effects: 12 attempts, waits of 1-2 s after the first failure doubling up to 5 minutes
    /// (1.5 s · 2ⁿ⁻¹, ±⅓); a `Retry-After` is waited out however long it is (`retryAfter(header:)` reads a day
    /// at most).
    public static let effects = RetryPolicy(
        maxAttempts: 12, baseDelay: .milliseconds(1_500), maxDelay: .seconds(300), jitter: 1.0 / 3, maxRetryAfter: .seconds(86_400))

    /// The wait after failed attempt number `attempt` (1-based). `random` in -1...1 picks the jitter.
    public func backoff(afterAttempt attempt: Int, random: Double = .random(in: -1...1)) -> Duration {
        let exponent = min(max(attempt - 1, 0), 30)
        let cap = seconds(maxDelay)
        let uncapped = seconds(baseDelay) * Double(1 << exponent)
        let r = min(max(random, -1), 1)
        // At the cap the jitter only goes down, so waits that reached it stay spread out instead of all landing on it.
        let jittered = uncapped >= cap ? cap * (1 - jitter * abs(r)) : uncapped * (1 + jitter * r)
        // Whole milliseconds: a wait is never finer than that, and table tests compare exact values.
        return .milliseconds(Int64((min(max(jittered, 0), cap) * 1_000).rounded()))
    }

    /// The wait a `Retry-After` header asks for: delta-seconds; anything else falls back to the default.
    public func retryAfter(header: String?) -> Duration {
        guard let header, let value = Double(header.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0
        else { return defaultRetryAfter }
        // A day at most: an absurd header must not trap the Duration conversion.
        return .seconds(min(value, 86_400))
    }
}

private func seconds(_ duration: Duration) -> Double { duration.inSeconds }
