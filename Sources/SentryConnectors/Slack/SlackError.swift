import SentryCore

/// Why a Slack call did not succeed; `method` is the Web API method, or `response_url`.
public enum SlackError: Error, Equatable, CustomStringConvertible {
    /// Slack answered `ok: false`; `code` is its `error` string (`channel_not_found`, `invalid_auth`, …).
    case api(method: String, code: String)
    /// Still rate limited after the retries, or asked to wait longer than the policy waits in place.
    case rateLimited(method: String, retryAfter: Duration)
    /// A status that carried no Slack answer.
    case http(method: String, status: Int)
    case transport(method: String, TransportError)
    /// A success status whose body was not the JSON Slack sends.
    case malformedResponse(method: String)

    /// `error` codes Slack documents as transient failures on its side (of every Slack API: Web, admin, Audit Logs).
    static let transientCodes: Set<String> = [
        "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
    ]

    public var method: String {
        switch self {
        case .api(let method, _), .rateLimited(let method, _), .http(let method, _), .transport(let method, _),
            .malformedResponse(let method):
            method
        }
    }

    /// Trying again later may succeed. For `chat.postMessage` check the channel's history first: a timeout or
    /// a 5xx does not say whether the message was posted.
    public var isRetryable: Bool {
        switch self {
        case .api(_, let code): Self.transientCodes.contains(code)
        case .rateLimited: true
        case .http(_, let status): status >= 500 || status == 408 || status == 429
        case .transport(_, let error): error.isTransient || error == .shutDown
        case .malformedResponse: true
        }
    }

    /// Slack refused what the message says (its blocks or its length), not the call: the same message in a
    /// simpler form may go through.
    public var refusedContent: Bool {
        if case .api(_, let code) = self { return ["invalid_blocks", "invalid_blocks_format", "msg_too_long"].contains(code) }
        return false
    }

    /// Repeating the same call cannot succeed (bad token, unknown channel, invalid request).
    public var isPermanent: Bool { !isRetryable }

    public var description: String {
        switch self {
        case .api(let method, let code): "Slack \(method) failed: \(code)"
        case .rateLimited(let method, let retryAfter): "Slack \(method) rate limited; retry after \(retryAfter)"
        case .http(let method, let status): "Slack \(method) answered HTTP \(status)"
        case .transport(let method, let error): "Slack \(method) not reached: \(error)"
        case .malformedResponse(let method): "Slack \(method) answered with an unreadable body"
        }
    }
}

extension SlackError: ConnectorError {
    public var rateLimitWait: Duration? { if case .rateLimited(_, let wait) = self { wait } else { nil } }
    public var service: String { "Slack" }
}
