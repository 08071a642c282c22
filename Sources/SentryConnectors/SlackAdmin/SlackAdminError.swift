import SentryCore

/// Why a SCIM or admin Web API call did not succeed.
public enum SlackAdminError: Error, Equatable, CustomStringConvertible {
    /// SCIM answered an error status; `detail` is Slack's error description (`Errors.description`, or `detail`
    /// in the SCIM 2.0 error shape).
    case scim(status: Int, detail: String)
    /// The Web API answered `ok: false`; `code` is its `error` string. A status with no Slack answer is
    /// reported as `http_<status>`.
    case api(method: String, code: String)
    /// Still rate limited after the retries, or asked to wait longer than the policy waits in place.
    case rateLimited(retryAfter: Duration)
    case transport(TransportError)
    /// A success status whose body was not what Slack sends; the text names the call.
    case malformedResponse(String)

    /// Trying again later may succeed.
    public var isRetryable: Bool {
        switch self {
        case .scim(let status, _): status >= 500 || status == 408 || status == 429
        case .api(_, let code): SlackError.transientCodes.contains(code) || code.hasPrefix("http_5")
        case .rateLimited: true
        case .transport(let error): error.isTransient || error == .shutDown
        case .malformedResponse: true
        }
    }

    public var description: String {
        switch self {
        case .scim(let status, let detail): "Slack SCIM answered HTTP \(status): \(detail)"
        case .api(let method, let code): "Slack \(method) failed: \(code)"
        case .rateLimited(let retryAfter): "Slack rate limited; retry after \(retryAfter)"
        case .transport(let error): "Slack not reached: \(error)"
        case .malformedResponse(let call): "Slack \(call) answered with an unreadable body"
        }
    }
}

extension SlackAdminError: ConnectorError {
    public var rateLimitWait: Duration? { if case .rateLimited(let wait) = self { wait } else { nil } }
    public var service: String { "Slack" }
}
