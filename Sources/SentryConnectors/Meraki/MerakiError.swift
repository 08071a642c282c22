import SentryCore

/// Why a Meraki Dashboard API call did not succeed.
public enum MerakiError: Error, Equatable, CustomStringConvertible {
    /// Still rate limited after the retries, or asked to wait longer than the policy waits in place.
    case rateLimited(retryAfter: Duration)
    /// A status Meraki answered with; `errors` is its `{"errors": [...]}` list (empty when the body had none).
    case http(status: Int, errors: [String])
    case transport(TransportError)
    /// A success status whose body was not the shape the API documents; the text says which call and what.
    case malformedResponse(String)
    /// A firewall update was answered without every rule that was sent: rules may have been lost, look now.
    case rulesNotPreserved(networkID: String)
    /// More than five redirects in a row.
    case tooManyRedirects
    /// The call was refused before anything was sent (a destination that is not an IP or CIDR, an empty marker).
    case invalidArgument(String)

    /// Trying again later may succeed.
    public var isRetryable: Bool {
        switch self {
        case .rateLimited: true
        case .http(let status, _): status >= 500 || status == 408 || status == 429
        case .transport(let error): error.isTransient || error == .shutDown
        case .malformedResponse, .rulesNotPreserved, .tooManyRedirects, .invalidArgument: false
        }
    }

    /// Meraki's answer for an appliance endpoint on a network that has no appliance (or does not exist).
    public var isNotFound: Bool {
        if case .http(404, _) = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .rateLimited(let retryAfter):
            "Meraki rate limited the call; retry after \(retryAfter)"
        case .http(let status, let errors):
            errors.isEmpty ? "Meraki answered HTTP \(status)" : "Meraki answered HTTP \(status): \(errors.joined(separator: "; "))"
        case .transport(let error):
            "Meraki not reached: \(error)"
        case .malformedResponse(let detail):
            "Meraki answered with an unreadable body (\(detail))"
        case .rulesNotPreserved(let networkID):
            "Meraki's answer to the firewall update of network \(networkID) lacks rules that were sent; check the rules now"
        case .tooManyRedirects:
            "Meraki redirected more than 5 times"
        case .invalidArgument(let detail):
            "Meraki call not sent: \(detail)"
        }
    }
}

extension MerakiError: ConnectorError {
    public var rateLimitWait: Duration? { if case .rateLimited(let wait) = self { wait } else { nil } }
    public var service: String { "Meraki" }
}
