/// One header line of an outbound request.
public struct HTTPHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// An outbound HTTP request, independent of the library that sends it.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]?
    /// Whole-transfer limit, connection set-up included.
    public var timeout: Duration

    public init(
        method: String = "GET",
        url: String,
        headers: [HTTPHeader] = [],
        body: [UInt8]? = nil,
        timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// The final response of a transfer (interim and proxy responses are dropped).
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Names are lowercased; repeated headers are joined with ", ".
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Sends HTTP requests; the seam between connectors and the network.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// Why a transfer produced no HTTP response.
public enum TransportError: Error, Equatable, Sendable {
    case timedOut
    /// Nothing was sent: resolving, connecting or the TLS handshake failed.
    case connectionFailed(String)
    case invalidURL(String)
    case failed(code: Int, message: String)
    case shutDown
}

extension TransportError {
    /// libcurl codes for a connection that broke mid-exchange (empty reply, send/receive failure, HTTP/2 stream
    /// reset, short body); worth another try, but the server may already have acted on the request.
    static let interruptedCodes: Set<Int> = [16, 18, 52, 55, 56, 92]

    /// A later attempt may succeed.
    public var isTransient: Bool {
        switch self {
        case .timedOut, .connectionFailed: true
        case .failed(let code, _): Self.interruptedCodes.contains(code)
        case .invalidURL, .shutDown: false
        }
    }

    /// False only when the request certainly never reached the server, so resending cannot duplicate it.
    public var mayHaveBeenDelivered: Bool {
        switch self {
        case .connectionFailed, .invalidURL: false
        case .timedOut, .failed, .shutDown: true
        }
    }
}
