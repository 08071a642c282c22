import SentryCore

/// Why an Audit Logs call did not succeed.
public enum SlackAuditError: Error, Equatable, CustomStringConvertible {
    /// Slack answered `ok: false` or an `error` (`invalid_authentication`, `missing_scope`, …) with this status.
    case api(code: String, status: Int)
    /// Still rate limited after the retries, or asked to wait longer than the policy waits in place.
    case rateLimited(retryAfter: Duration)
    /// A status that carried no Slack answer.
    case http(status: Int)
    case transport(TransportError)
    /// A success status whose body was not a `logs` response.
    case malformedResponse
    /// Slack handed back a cursor already followed in this walk; following it again would never end.
    case repeatedCursor

    /// A later attempt may succeed (the collector simply polls again).
    public var isRetryable: Bool {
        switch self {
        case .api(let code, let status): SlackError.transientCodes.contains(code) || status >= 500
        case .rateLimited: true
        case .http(let status): status >= 500 || status == 408 || status == 429
        case .transport(let error): error.isTransient || error == .shutDown
        case .malformedResponse, .repeatedCursor: true
        }
    }

    public var description: String {
        switch self {
        case .api(let code, let status): "Slack audit logs failed: \(code) (HTTP \(status))"
        case .rateLimited(let retryAfter): "Slack audit logs rate limited; retry after \(retryAfter)"
        case .http(let status): "Slack audit logs answered HTTP \(status)"
        case .transport(let error): "Slack audit logs not reached: \(error)"
        case .malformedResponse: "Slack audit logs answered with an unreadable body"
        case .repeatedCursor: "Slack audit logs repeated a pagination cursor"
        }
    }
}

extension SlackAuditError: ConnectorError {
    public var rateLimitWait: Duration? { if case .rateLimited(let wait) = self { wait } else { nil } }
    public var service: String { "Slack audit logs" }
}
