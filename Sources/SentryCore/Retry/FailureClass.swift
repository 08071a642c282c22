/// What kind of failure a call to another service met: all that decides whether it is tried again, and what a
/// person is told about it. The service's own words (codes, bodies, transport errors) go to the log only.
public enum FailureClass: Sendable, Equatable {
    /// The service asked to wait (HTTP 429 with `Retry-After`) and did not act on the call.
    case rateLimited(retryAfter: Duration)
    /// Trying again later may help: a timeout, a 5xx, a connection that failed, an unreadable answer.
    case transient
    /// Trying again cannot help: the service refused the call (bad token, unknown channel, invalid request).
    case permanent

    /// The sentence a Slack user reads about such a failure of `service` ("Slack", "Meraki").
    public func sentence(service: String) -> String {
        switch self {
        case .rateLimited: "\(service) kept rate-limiting the request"
        case .transient: "\(service) could not be reached or failed on its side"
        case .permanent: "\(service) refused the request"
        }
    }

    /// What a Slack user reads about a failure that is not a service's (a bug, the database): nothing of its text.
    public static let internalSentence = "Sentry hit an internal error"
}

/// An error that knows its `FailureClass` and says what a Slack user may read about it.
public protocol ClassifiedError: Error {
    var failureClass: FailureClass { get }
    /// In Sentry's words, never the service's: safe to show in a channel, a thread or an ephemeral answer.
    var userFacing: String { get }
}

extension FailureClass {
    /// The class of any error: a `ClassifiedError` says so itself; anything else may pass if tried again.
    public init(of error: any Error) {
        self = (error as? any ClassifiedError)?.failureClass ?? .transient
    }

    /// What a Slack user may read about any error.
    public static func userFacing(_ error: any Error) -> String {
        (error as? any ClassifiedError)?.userFacing ?? internalSentence
    }
}
