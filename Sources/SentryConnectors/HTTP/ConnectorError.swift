import SentryCore

/// The errors of this module's clients: whether a repeat may pass, and whether the service asked to wait. Their
/// `FailureClass` and the sentence a Slack user reads follow from that alone.
public protocol ConnectorError: ClassifiedError, CustomStringConvertible {
    /// Trying again later may succeed.
    var isRetryable: Bool { get }
    /// The wait a 429 asked for; nil for any other failure.
    var rateLimitWait: Duration? { get }
    /// The service, as a Slack user names it.
    var service: String { get }
}

extension ConnectorError {
    public var failureClass: FailureClass {
        if let wait = rateLimitWait { return .rateLimited(retryAfter: wait) }
        return isRetryable ? .transient : .permanent
    }

    public var userFacing: String { failureClass.sentence(service: service) }
}
