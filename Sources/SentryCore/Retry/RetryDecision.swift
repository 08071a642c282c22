/// What happens to a call (an outbox effect) after a failure: decided by `RetryPolicy.decide`, carried out by the
/// caller.
public enum RetryDecision: Sendable, Equatable {
    /// The service asked to wait: run it again after `delay`, and the attempt does not count (the service did not
    /// act on it).
    case waitOut(Duration)
    /// Run it again after `delay`; the attempt counts.
    case retry(after: Duration)
    /// No attempt left, or none can help: the failure is final.
    case giveUp
}

extension RetryPolicy {
    /// The decision after attempt number `attempt` (1-based) failed with `failure`. `random` in -1...1 picks the
    /// jitter of a backoff.
    ///
    /// A rate limit is waited out (whole seconds plus one, so never less than asked) and never uses up an attempt,
    /// unless it asks for more than `maxRetryAfter`; a transient failure is retried with backoff while attempts
    /// remain; a permanent one is final at once.
    public func decide(_ failure: FailureClass, attempt: Int, random: Double = .random(in: -1...1)) -> RetryDecision {
        switch failure {
        case .rateLimited(let retryAfter):
            guard retryAfter <= maxRetryAfter else { return .giveUp }
            return .waitOut(.seconds(max(retryAfter, .zero).components.seconds) + .seconds(1))
        case .transient:
            return attempt < maxAttempts ? .retry(after: backoff(afterAttempt: attempt, random: random)) : .giveUp
        case .permanent:
            return .giveUp
        }
    }
}
