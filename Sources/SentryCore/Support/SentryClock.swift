import Foundation

/// The one time seam: wall time for timestamps and due times, a monotonic clock for waits and rates. Injected into
/// the effect runner, the timer scheduler, the Slack pacer, the token buckets and the collectors, so tests drive
/// time (`ManualClock` in SentryTesting) instead of sleeping. `SystemClock` is the real one.
public protocol SentryClock: Sendable {
    /// Wall time: what is stored and shown, and what due times are compared with.
    func now() -> Date
    /// Monotonic time: what waits and refill rates are measured on; it never jumps when the wall clock is set.
    func instant() -> ContinuousClock.Instant
    /// Returns once the monotonic clock reaches `deadline`; throws `CancellationError` if the task is cancelled
    /// first.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

extension SentryClock {
    /// Returns after `duration` on the monotonic clock; throws `CancellationError` if the task is cancelled first.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: instant() + duration)
    }
}

/// The system's clocks: `Date()` and `ContinuousClock`.
public struct SystemClock: SentryClock {
    public init() {}
    public func now() -> Date { Date() }
    public func instant() -> ContinuousClock.Instant { .now }
    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: deadline, clock: .continuous)
    }
}
