import Foundation
import Logging
import SentryCore

/// Meraki Dashboard API v1 calls for one organisation (inventory, uplinks, the appliance L3 firewall, client
/// policies), with Meraki's rate limit, redirects, pagination and transient failures handled here.
public struct MerakiClient: Sendable {
    /// Meraki asks integrations to name themselves as `ApplicationName/version VendorName`.
    public static let defaultUserAgent = "SentryPlatform/0.1 SentryPlatform"
    /// Redirects followed in a row before giving up (curl's own following is off).
    public static let maxRedirects = 5
    /// Pages read from one listing before it is taken for a loop.
    static let maxPages = 10_000

    public let transport: any HTTPTransport
    public let baseURL: String
    public let organizationID: String
    public let retry: RetryPolicy
    public let requestTimeout: Duration
    public let userAgent: String
    let limiter: any RequestBudget
    let locks: MerakiNetworkLocks
    let sleep: @Sendable (Duration) async throws -> Void
    let logger: Logger
    private let apiKey: String
    private let origin: Origin?

    /// - Parameters:
    ///   - limiter: the organisation's request budget, shared by every client of that organisation
    ///     (`MerakiClient.organizationBudget()`).
    ///   - locks: serialises firewall writes per network; share one per organisation as well. Copies of this
    ///     client share the one given here.
    public init(
        transport: any HTTPTransport,
        baseURL: String = "https://api.meraki.com/api/v1",
        apiKey: String,
        organizationID: String,
        limiter: any RequestBudget,
        locks: MerakiNetworkLocks = MerakiNetworkLocks(),
        retry: RetryPolicy = .standard,
        requestTimeout: Duration = .seconds(30),
        userAgent: String = MerakiClient.defaultUserAgent,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        logger: Logger
    ) {
        self.transport = transport
        let base = baseURL.withoutTrailingSlashes
        self.baseURL = base
        self.apiKey = apiKey
        self.organizationID = organizationID
        self.limiter = limiter
        self.locks = locks
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.userAgent = userAgent
        self.sleep = sleep
        self.logger = logger
        self.origin = Origin(base)
    }

    // MARK: plumbing

    /// A final answer and the URL it came from (after redirects), against which relative links resolve.
    struct Answer: Sendable {
        var response: HTTPResponse
        var url: String
    }

    func url(_ path: String, _ query: [(String, String)] = []) -> String {
        let url = baseURL + path
        guard !query.isEmpty else { return url }
        return url + "?" + query.map { "\(Self.percentEncoded($0.0))=\(Self.percentEncoded($0.1))" }.joined(separator: "&")
    }

    /// One path segment (an id) made safe for a URL.
    static func segment(_ id: String) -> String { percentEncoded(id) }

    static func percentEncoded(_ text: String) -> String { PercentEncoding.encode(text) }

    /// Whether the API key may go to `url`: the base URL's own origin, or Meraki's domains over HTTPS (the API
    /// redirects to shard hosts such as `n123.meraki.com`). Anywhere else a redirect or link leads gets no key.
    func mayCarryKey(_ url: String) -> Bool {
        guard let target = Origin(url) else { return false }
        if let origin, target == origin { return true }
        guard target.scheme == "https" else { return false }
        let host = target.host
        return host == "meraki.com" || host.hasSuffix(".meraki.com") || host == "meraki.cn" || host.hasSuffix(".meraki.cn")
    }

    private func request(method: String, url: String, body: [UInt8]?) -> HTTPRequest {
        var headers = [HTTPHeader("Accept", "application/json"), HTTPHeader("User-Agent", userAgent)]
        if mayCarryKey(url) { headers.append(HTTPHeader("Authorization", "Bearer \(apiKey)")) }
        if body != nil { headers.append(HTTPHeader("Content-Type", "application/json")) }
        return HTTPRequest(method: method, url: url, headers: headers, body: body, timeout: requestTimeout)
    }

    /// Sends one request, following redirects; every hop draws on the request budget.
    private func sendFollowingRedirects(_ operation: String, method: String, url: String, body: [UInt8]?) async throws -> Answer {
        var method = method
        var url = url
        var body = body
        var hops = 0
        while true {
            try await limiter.acquire()
            let response = try await transport.send(request(method: method, url: url, body: body))
            guard [301, 302, 303, 307, 308].contains(response.status), let location = response.headers["location"], !location.isEmpty
            else { return Answer(response: response, url: url) }
            hops += 1
            guard hops <= Self.maxRedirects else { throw MerakiError.tooManyRedirects }
            guard let next = Self.resolve(location, against: url) else {
                throw MerakiError.malformedResponse("\(operation): redirect to an unreadable location")
            }
            if response.status == 303 {
                method = "GET"
                body = nil
            }
            logger.debug(
                "meraki call redirected",
                metadata: [
                    "meraki.operation": "\(operation)", "http.status": "\(response.status)",
                    "meraki.redirect_host": "\(Origin(next)?.host ?? "?")", "meraki.key_sent": "\(mayCarryKey(next))",
                ])
            url = next
        }
    }

    static func resolve(_ reference: String, against url: String) -> String? {
        guard let base = URL(string: url), let resolved = URL(string: reference, relativeTo: base) else { return nil }
        return resolved.absoluteString
    }

    private enum Outcome {
        case done(Answer)
        case fail(MerakiError)
        case retry(MerakiError, after: Duration)
    }

    /// Sends a call and returns its 2xx answer. `safeToRepeat` is false when repeating a call whose effect is
    /// unknown could do harm (a whole-list PUT built from a read that may be stale); such a call is repeated
    /// only when Meraki certainly did not act on it: a 429, or a connection that was never made.
    func execute(
        _ operation: String,
        method: String,
        url: String,
        body: JSONValue? = nil,
        safeToRepeat: Bool
    ) async throws -> Answer {
        let bytes = body.map { Array($0.encoded().utf8) }
        var attempt = 0
        while true {
            attempt += 1
            let outcome: Outcome
            do {
                let answer = try await sendFollowingRedirects(operation, method: method, url: url, body: bytes)
                logger.debug(
                    "meraki call answered",
                    metadata: [
                        "meraki.operation": "\(operation)", "http.status": "\(answer.response.status)",
                        "meraki.attempt": "\(attempt)",
                    ])
                outcome = classify(answer, attempt: attempt, safeToRepeat: safeToRepeat)
            } catch let error as MerakiError {
                outcome = .fail(error)
            } catch let error as TransportError {
                let retryable = error.isTransient && (safeToRepeat || !error.mayHaveBeenDelivered)
                outcome = retryable ? .retry(.transport(error), after: retry.backoff(afterAttempt: attempt)) : .fail(.transport(error))
            } catch let error as CancellationError {
                throw error
            } catch {
                throw MerakiError.transport(.failed(code: -1, message: String(describing: error)))
            }

            switch outcome {
            case .done(let answer):
                return answer
            case .fail(let error):
                if case .rateLimited(let wait) = error { await limiter.drain(for: wait) }
                logger.warning(
                    "meraki call failed",
                    metadata: ["meraki.operation": "\(operation)", "meraki.error": "\(error)", "meraki.attempt": "\(attempt)"])
                throw error
            case .retry(let error, let delay):
                if case .rateLimited = error { await limiter.drain(for: delay) }
                guard attempt < retry.maxAttempts else {
                    logger.warning(
                        "meraki call failed; no attempts left",
                        metadata: ["meraki.operation": "\(operation)", "meraki.error": "\(error)", "meraki.attempt": "\(attempt)"])
                    throw error
                }
                logger.warning(
                    "meraki call failed; retrying",
                    metadata: [
                        "meraki.operation": "\(operation)", "meraki.error": "\(error)", "meraki.attempt": "\(attempt)",
                        "meraki.retry_in": "\(delay)",
                    ])
                try await sleep(delay)
            }
        }
    }

    private func classify(_ answer: Answer, attempt: Int, safeToRepeat: Bool) -> Outcome {
        let response = answer.response
        if (200...299).contains(response.status) { return .done(answer) }
        if response.status == 429 {
            // Meraki did not act on a rate-limited call, so even a whole-list PUT may be repeated.
            let wait = retry.retryAfter(header: response.headers["retry-after"])
            let error = MerakiError.rateLimited(retryAfter: wait)
            return wait > retry.maxRetryAfter ? .fail(error) : .retry(error, after: wait)
        }
        let error = MerakiError.http(status: response.status, errors: Self.errors(in: response.body))
        if response.status >= 500 {
            return safeToRepeat ? .retry(error, after: retry.backoff(afterAttempt: attempt)) : .fail(error)
        }
        return .fail(error)
    }

    /// Meraki's `{"errors": [...]}`.
    static func errors(in body: [UInt8]) -> [String] {
        JSONValue.parse(body)?["errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    func decode<T: Decodable>(_ type: T.Type, from answer: Answer, _ operation: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(answer.response.body))
        } catch let error as DecodingError {
            throw MerakiError.malformedResponse("\(operation): \(Self.summary(of: error))")
        } catch {
            throw MerakiError.malformedResponse("\(operation): not JSON")
        }
    }

    /// What was wrong, without the body (it may hold client names and addresses).
    private static func summary(of error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \(path(context)).\(key.stringValue)"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "unexpected value at \(path(context))"
        case .dataCorrupted: return "not JSON"
        @unknown default: return "unreadable"
        }
    }

    /// Reads every page of a listing, following `Link: <…>; rel=next` until there is none.
    func getAllPages<T: Decodable & Sendable>(_ operation: String, path: String, query: [(String, String)]) async throws -> [T] {
        var next: String? = url(path, query)
        var visited: Set<String> = []
        var items: [T] = []
        while let current = next {
            guard visited.insert(current).inserted, visited.count <= Self.maxPages else {
                throw MerakiError.malformedResponse("\(operation): pagination does not end")
            }
            let answer = try await execute(operation, method: "GET", url: current, safeToRepeat: true)
            items += try decode([T].self, from: answer, operation)
            next = MerakiLinkHeader.next(in: answer.response.headers["link"]).flatMap { Self.resolve($0, against: answer.url) }
        }
        if visited.count > 1 {
            logger.debug(
                "meraki listing read", metadata: ["meraki.operation": "\(operation)", "meraki.pages": "\(visited.count)"])
        }
        return items
    }
}

/// Scheme, host and port of a URL, compared to decide where the key may go.
struct Origin: Equatable, Sendable {
    var scheme: String
    var host: String
    var port: Int

    init?(_ url: String) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), let host = parsed.host?.lowercased(),
            !host.isEmpty
        else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = parsed.port ?? (scheme == "https" ? 443 : 80)
    }
}

/// Reads RFC 8288 `Link` headers as Meraki sends them (`<url>; rel=first, <url>; rel=next`).
enum MerakiLinkHeader {
    static func next(in header: String?) -> String? {
        guard let header else { return nil }
        var rest = Substring(header)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let target = rest[rest.index(after: open)..<close]
            let afterTarget = rest[rest.index(after: close)...]
            let end = afterTarget.firstIndex(of: "<") ?? afterTarget.endIndex
            for parameter in afterTarget[..<end].split(separator: ";") {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "rel" else { continue }
                let relations = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: " ,\"")).lowercased()
                if relations.split(separator: " ").contains("next") { return String(target) }
            }
            rest = afterTarget[end...]
        }
        return nil
    }
}

extension MerakiClient: CustomStringConvertible, CustomReflectable {
    /// Names the organisation and endpoint only: the client holds the API key, which must never reach a log.
    public var description: String { "MerakiClient(organization: \(organizationID), baseURL: \(baseURL))" }

    public var customMirror: Mirror {
        Mirror(self, children: ["organizationID": organizationID, "baseURL": baseURL], displayStyle: .struct)
    }
}
