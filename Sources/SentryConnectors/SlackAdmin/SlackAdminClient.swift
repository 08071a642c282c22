import Foundation
import Logging
import SentryCore

/// Blocks and unblocks Slack users for containment: SCIM deactivation and reactivation, and
/// `admin.users.session.reset`, with Slack's rate limits and transient failures handled here.
public struct SlackAdminClient: Sendable {
    public let transport: any HTTPTransport
    public let scimBaseURL: String
    public let apiBaseURL: String
    /// Taken from `scimBaseURL`; picks the PATCH body.
    public let scimVersion: SCIMVersion
    public let retry: RetryPolicy
    public let requestTimeout: Duration
    private let token: String
    private let scimWrites: any RequestBudget
    private let sleep: @Sendable (Duration) async throws -> Void
    private let logger: Logger

    /// - Parameters:
    ///   - scimBaseURL: `…/scim/v2` (SCIM 2.0) or `…/scim/v1` (SCIM 1.1); the version is read from the URL.
    ///   - token: an org-admin user token (`xoxp-…`) with the `admin` and `admin.users:write` scopes.
    ///   - scimWrites: the budget every SCIM DELETE and PATCH of the process draws from; see `scimWriteBucket`.
    public init(
        transport: any HTTPTransport,
        scimBaseURL: String = "https://api.slack.com/scim/v2",
        apiBaseURL: String = "https://slack.com/api",
        token: String,
        scimWrites: any RequestBudget,
        retry: RetryPolicy = .standard,
        requestTimeout: Duration = .seconds(10),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        logger: Logger
    ) {
        self.transport = transport
        self.scimBaseURL = Self.trimmed(scimBaseURL)
        self.apiBaseURL = Self.trimmed(apiBaseURL)
        self.scimVersion = SCIMVersion(baseURL: scimBaseURL)
        self.token = token
        self.scimWrites = scimWrites
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.sleep = sleep
        self.logger = logger
    }

    /// Slack allows 180 SCIM writes a minute; a small burst lets a few blocks go out at once.
    public static func scimWriteBucket(
        clock: any SentryClock = SystemClock(), onWait: @escaping @Sendable (Duration) -> Void = { _ in }
    ) -> TokenBucket {
        TokenBucket(capacity: 5, refillPerSecond: 3, clock: clock, onWait: onWait)
    }

    // MARK: SCIM

    /// `GET /Users/{id}`; nil when Slack does not know the user.
    public func user(id: String) async throws -> SCIMUser? {
        let operation = "scim.get"
        let response = try await scimRead(userID: id, operation: operation)
        switch response.status {
        case 200...299:
            guard let user = JSONValue.parse(response.body).flatMap(SCIMUser.init(json:)) else {
                throw fail(.malformedResponse("SCIM GET /Users"), operation: operation, userID: id)
            }
            return user
        case 404:
            return nil
        default:
            throw fail(.scim(status: response.status, detail: Self.scimDetail(response)), operation: operation, userID: id)
        }
    }

    /// Deactivates a user with `DELETE /Users/{id}` (Slack keeps the account, marked inactive, and signs it out).
    /// Reads first: a user already inactive is not written to.
    public func deactivate(userID: String) async throws -> DeactivationOutcome {
        let operation = "scim.delete"
        guard let current = try await user(id: userID) else { return .notFound }
        guard current.active else {
            logger.info("slack user already inactive", metadata: metadata(operation, userID))
            return .alreadyInactive
        }
        let request = scimRequest("DELETE", userID: userID, body: nil)
        switch try await write(request, operation: operation, userID: userID, done: { !$0.active }) {
        case .done:
            logger.notice("slack user deactivated", metadata: metadata(operation, userID))
            return .deactivated
        case .notFound:
            return .notFound
        case .rejected(let response):
            let detail = Self.scimDetail(response)
            guard let reason = Self.refusalReason(status: response.status, detail: detail) else {
                throw fail(.scim(status: response.status, detail: detail), operation: operation, userID: userID)
            }
            var refused = metadata(operation, userID)
            refused["http.status"] = "\(response.status)"
            refused["slack.reason"] = "\(reason)"
            logger.warning("slack refused to deactivate user", metadata: refused)
            return .refused(reason: reason)
        }
    }

    /// Reactivates a user with `PATCH /Users/{id}` setting `active: true` (PatchOp in 2.0, a partial resource
    /// in 1.1). Reads first: a user already active is not written to.
    public func reactivate(userID: String) async throws -> ReactivationOutcome {
        let operation = "scim.patch"
        guard let current = try await user(id: userID) else { return .notFound }
        guard !current.active else {
            logger.info("slack user already active", metadata: metadata(operation, userID))
            return .alreadyActive
        }
        let request = scimRequest("PATCH", userID: userID, body: Array(scimVersion.reactivationBody.utf8))
        switch try await write(request, operation: operation, userID: userID, done: { $0.active }) {
        case .done:
            logger.notice("slack user reactivated", metadata: metadata(operation, userID))
            return .reactivated
        case .notFound:
            return .notFound
        case .rejected(let response):
            throw fail(.scim(status: response.status, detail: Self.scimDetail(response)), operation: operation, userID: userID)
        }
    }

    // MARK: Web API

    /// `admin.users.session.reset`: signs the user out of every session on every device. Repeating it is
    /// harmless, so timeouts and 5xx are retried.
    public func resetSessions(userID: String) async throws {
        let method = "admin.users.session.reset"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let request = HTTPRequest(
            method: "POST",
            url: "\(apiBaseURL)/\(method)",
            headers: [authorization, HTTPHeader("Content-Type", Self.jsonContentType)],
            body: Array(try encoder.encode(["user_id": userID])),
            timeout: requestTimeout
        )
        var attempt = 0
        while true {
            attempt += 1
            let step = try await exchange(request, operation: method, userID: userID, attempt: attempt) { response in
                .api(method: method, code: "http_\(response.status)")
            }
            switch step {
            case .answered(let response):
                let answer = JSONValue.parse(response.body)?.objectValue
                if let answer, answer["ok"]?.boolValue == false {
                    let code = answer["error"]?.stringValue ?? "unknown_error"
                    if code == "ratelimited" {
                        let wait = retry.retryAfter(header: response.headers["retry-after"])
                        try await waitOut(rateLimit: wait, attempt: attempt, operation: method, userID: userID, drain: false)
                        continue
                    }
                    let error = SlackAdminError.api(method: method, code: code)
                    guard error.isRetryable, attempt < retry.maxAttempts else {
                        throw fail(error, operation: method, userID: userID)
                    }
                    try await back(off: error, attempt: attempt, operation: method, userID: userID)
                    continue
                }
                guard (200...299).contains(response.status) else {
                    throw fail(.api(method: method, code: "http_\(response.status)"), operation: method, userID: userID)
                }
                guard answer?["ok"]?.boolValue == true else {
                    throw fail(.malformedResponse(method), operation: method, userID: userID)
                }
                logger.notice("slack sessions reset", metadata: metadata(method, userID))
                return
            case .rateLimited(let wait):
                try await waitOut(rateLimit: wait, attempt: attempt, operation: method, userID: userID, drain: false)
            case .failed(let error):
                guard attempt < retry.maxAttempts else { throw fail(error, operation: method, userID: userID) }
                try await back(off: error, attempt: attempt, operation: method, userID: userID)
            }
        }
    }

    // MARK: plumbing

    /// Slack's SCIM accepts plain JSON; RFC 7644 names `application/scim+json`, which Slack's docs do not use.
    static let jsonContentType = "application/json; charset=utf-8"

    private var authorization: HTTPHeader { HTTPHeader("Authorization", "Bearer \(token)") }

    private func scimRequest(_ method: String, userID: String, body: [UInt8]?) -> HTTPRequest {
        var headers = [authorization, HTTPHeader("Accept", "application/json")]
        if body != nil { headers.append(HTTPHeader("Content-Type", Self.jsonContentType)) }
        return HTTPRequest(
            method: method,
            url: "\(scimBaseURL)/Users/\(Self.pathSegment(userID))",
            headers: headers,
            body: body,
            timeout: requestTimeout
        )
    }

    private enum Step {
        /// A final answer: a success, or an error that repeating cannot fix.
        case answered(HTTPResponse)
        case rateLimited(Duration)
        /// A 5xx or a transient transport failure; the request may or may not have been acted on.
        case failed(SlackAdminError)
    }

    private enum WriteResult {
        case done
        case notFound
        case rejected(HTTPResponse)
    }

    /// One exchange, classified. Errors no retry can fix are thrown.
    private func exchange(
        _ request: HTTPRequest,
        operation: String,
        userID: String,
        attempt: Int,
        serverError: (HTTPResponse) -> SlackAdminError
    ) async throws -> Step {
        do {
            let response = try await transport.send(request)
            var answered = metadata(operation, userID)
            answered["http.status"] = "\(response.status)"
            answered["slack.attempt"] = "\(attempt)"
            logger.debug("slack admin call answered", metadata: answered)
            if response.status == 429 {
                return .rateLimited(retry.retryAfter(header: response.headers["retry-after"]))
            }
            if response.status >= 500 { return .failed(serverError(response)) }
            return .answered(response)
        } catch let error as TransportError {
            guard error.isTransient else { throw fail(.transport(error), operation: operation, userID: userID) }
            return .failed(.transport(error))
        } catch let error as CancellationError {
            throw error
        } catch {
            throw fail(.transport(.failed(code: -1, message: String(describing: error))), operation: operation, userID: userID)
        }
    }

    private func scimRead(userID: String, operation: String) async throws -> HTTPResponse {
        let request = scimRequest("GET", userID: userID, body: nil)
        var attempt = 0
        while true {
            attempt += 1
            switch try await exchange(request, operation: operation, userID: userID, attempt: attempt, serverError: Self.scimError) {
            case .answered(let response):
                return response
            case .rateLimited(let wait):
                try await waitOut(rateLimit: wait, attempt: attempt, operation: operation, userID: userID, drain: true)
            case .failed(let error):
                guard attempt < retry.maxAttempts else { throw fail(error, operation: operation, userID: userID) }
                try await back(off: error, attempt: attempt, operation: operation, userID: userID)
            }
        }
    }

    /// Sends a SCIM write until it is answered. DELETE and PATCH of `active` are idempotent, but an answer lost
    /// to a 5xx or a broken connection says nothing about whether Slack acted, so the user is read again
    /// before the write is repeated: `done` says whether the read shows the write's effect.
    private func write(
        _ request: HTTPRequest,
        operation: String,
        userID: String,
        done: (SCIMUser) -> Bool
    ) async throws -> WriteResult {
        var attempt = 0
        var holdsToken = false
        while true {
            attempt += 1
            if !holdsToken { try await scimWrites.acquire() }
            holdsToken = false
            switch try await exchange(request, operation: operation, userID: userID, attempt: attempt, serverError: Self.scimError) {
            case .answered(let response):
                switch response.status {
                case 200...299:
                    // Slack answers a PATCH with the user; one that does not show the change did not take it.
                    if let user = JSONValue.parse(response.body).flatMap(SCIMUser.init(json:)), !done(user) {
                        throw fail(
                            .scim(status: response.status, detail: "the answer does not show the change"),
                            operation: operation, userID: userID)
                    }
                    return .done
                case 404:
                    return .notFound
                default:
                    return .rejected(response)
                }
            case .rateLimited(let wait):
                try await waitOut(rateLimit: wait, attempt: attempt, operation: operation, userID: userID, drain: true)
                // A rate-limited write was not carried out, so its token still stands for the repeat.
                holdsToken = true
            case .failed(let error):
                guard attempt < retry.maxAttempts else { throw fail(error, operation: operation, userID: userID) }
                try await back(off: error, attempt: attempt, operation: operation, userID: userID)
                guard let current = try await user(id: userID) else { return .notFound }
                if done(current) { return .done }
            }
        }
    }

    /// Waits out a 429 in place, or throws when the wait is too long or no attempts are left. SCIM 429s empty
    /// the shared write bucket so every caller slows down, not just the one told.
    private func waitOut(rateLimit wait: Duration, attempt: Int, operation: String, userID: String, drain: Bool) async throws {
        if drain { await scimWrites.drain(for: wait) }
        let error = SlackAdminError.rateLimited(retryAfter: wait)
        guard wait <= retry.maxRetryAfter, attempt < retry.maxAttempts else {
            throw fail(error, operation: operation, userID: userID)
        }
        var waiting = metadata(operation, userID)
        waiting["slack.attempt"] = "\(attempt)"
        waiting["slack.retry_in"] = "\(wait)"
        logger.warning("slack admin call rate limited; waiting", metadata: waiting)
        try await sleep(wait)
    }

    private func back(off error: SlackAdminError, attempt: Int, operation: String, userID: String) async throws {
        let delay = retry.backoff(afterAttempt: attempt)
        var retrying = metadata(operation, userID)
        retrying["slack.error"] = "\(error)"
        retrying["slack.attempt"] = "\(attempt)"
        retrying["slack.retry_in"] = "\(delay)"
        logger.warning("slack admin call failed; retrying", metadata: retrying)
        try await sleep(delay)
    }

    /// Logs an error that goes to the caller and hands it back for throwing.
    private func fail(_ error: SlackAdminError, operation: String, userID: String) -> SlackAdminError {
        var failed = metadata(operation, userID)
        failed["slack.error"] = "\(error)"
        logger.warning("slack admin call failed", metadata: failed)
        return error
    }

    private func metadata(_ operation: String, _ userID: String) -> Logger.Metadata {
        ["slack.operation": "\(operation)", "slack.user_id": "\(userID)"]
    }

    private static func scimError(_ response: HTTPResponse) -> SlackAdminError {
        .scim(status: response.status, detail: scimDetail(response))
    }

    /// Slack's error text from either SCIM error shape: `{"Errors":{"description":…,"code":…}}` (Slack, both
    /// versions; sometimes a list) or RFC 7644's `{"detail":…,"status":…}`.
    static func scimDetail(_ response: HTTPResponse) -> String {
        let body = JSONValue.parse(response.body)
        let errors = body?["Errors"]
        let slack = errors?["description"]?.stringValue ?? errors?.arrayValue?.first?["description"]?.stringValue
        let text = slack ?? body?["detail"]?.stringValue ?? ""
        return text.isEmpty ? "HTTP \(response.status)" : text
    }

    /// Error codes that mean the token, not the user, is the problem: those are errors, never refusals.
    static let credentialCodes: Set<String> = [
        "invalid_authentication", "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive",
        "missing_scope", "not_allowed_token_type", "no_permission", "ekm_access_denied",
    ]

    /// A person-readable reason when a 400 or 403 from DELETE means Slack will not deactivate this user; nil
    /// when it is some other failure. Slack's descriptions start with a code, sometimes followed by context
    /// (`cannot_disable_primary_owner (user=W…)`).
    static func refusalReason(status: Int, detail: String) -> String? {
        guard status == 400 || status == 403 else { return nil }
        let code = String(detail.prefix { $0.isLetter || $0.isNumber || $0 == "_" }).lowercased()
        if credentialCodes.contains(code) { return nil }
        if code.contains("primary_owner") { return "Slack does not deactivate the primary owner (\(detail))" }
        if code.contains("owner") { return "Slack lets only an owner's token deactivate an owner (\(detail))" }
        if code.contains("bot") || code.contains("app_user") {
            return "bot and app users are removed with their app, not deactivated through SCIM (\(detail))"
        }
        return "Slack refused to deactivate this user (HTTP \(status): \(detail))"
    }

    private static func trimmed(_ url: String) -> String {
        let base = url.withoutTrailingSlashes
        return base
    }

    /// A user id as one path segment: anything but letters, digits, `-`, `_` and `~` is percent-encoded (dots
    /// too, so no id is a dot segment), so an id can never reach another resource.
    static func pathSegment(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += String(format: "%%%02X", byte)
            }
        }
        return result
    }
}
