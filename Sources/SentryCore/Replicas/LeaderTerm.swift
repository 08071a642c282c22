import Foundation

/// Whether this replica leads the pollers, decided from its attempts to hold the leadership row, on its own
/// monotonic clock. A term won by an attempt that started at `s` is trusted until `s + ttl - margin`: the row
/// may expire for the others at `s + ttl` at the earliest, so this replica stops before anyone else can start.
/// Pure: the elector runs the attempts and carries out what this returns.
public struct LeaderTerm: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Nothing changes.
        case none
        /// Became the leader: start the pollers.
        case lead
        /// No longer the leader (lost the row, or could not renew in time): stop the pollers now.
        case stepDown
    }

    public let ttl: Duration
    /// How long before the row's expiry this replica stops trusting its term (clock drift between replicas).
    public let margin: Duration
    /// The end of the trusted term; nil when not leading.
    public private(set) var trustedUntil: ContinuousClock.Instant?

    public init(ttl: Duration = .seconds(15), margin: Duration = .seconds(1)) {
        precondition(ttl > margin, "a term must outlast its margin")
        self.ttl = ttl
        self.margin = margin
    }

    public var isLeading: Bool { trustedUntil != nil }

    /// An attempt that started at `start` ended: `held` true when the row is this replica's until `start + ttl`,
    /// false when someone else holds it, nil when the attempt failed (the database did not answer).
    public mutating func attempted(startedAt start: ContinuousClock.Instant, held: Bool?, now: ContinuousClock.Instant) -> Action {
        switch held {
        case true?:
            let until = start + ttl - margin
            // A renewal that took longer than the term leaves nothing to trust.
            guard until > now else { return checked(now: now) }
            let wasLeading = isLeading
            trustedUntil = until
            return wasLeading ? .none : .lead
        case false?:
            // Someone else holds the row: whatever this replica believed, it is over.
            return stepDown()
        case nil:
            // The database did not answer: the term holds until it runs out, no longer.
            return checked(now: now)
        }
    }

    /// The time passed `now`: steps down when the trusted term is over.
    public mutating func checked(now: ContinuousClock.Instant) -> Action {
        guard let until = trustedUntil, now >= until else { return .none }
        return stepDown()
    }

    /// Gave the role up (shutting down).
    public mutating func resigned() -> Action { stepDown() }

    private mutating func stepDown() -> Action {
        guard isLeading else { return .none }
        trustedUntil = nil
        return .stepDown
    }
}
