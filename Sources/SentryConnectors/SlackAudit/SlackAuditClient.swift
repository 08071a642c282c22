import Foundation
import Logging
import SentryCore

/// Reads Slack's Audit Logs API (`GET {base}/logs`) with an org-owner token, within the organisation's
/// request budget; rate limits, 5xx and broken connections are handled here.
public struct SlackAuditClient: AuditLogReading {
    public let transport: any HTTPTransport
    public let baseURL: String
    public let retry: RetryPolicy
    public let requestTimeout: Duration
    private let token: String
    private let budget: any RequestBudget
    private let sleep: @Sendable (Duration) async throws -> Void
    private let logger: Logger

    /// - Parameters:
    ///   - baseURL: `SLACK_AUDIT_URL`, `https://api.slack.com/audit/v1` by default.
    ///   - token: an org-owner user token (`xoxp-…`) with `auditlogs:read`; never logged.
    ///   - budget: shared by every Audit Logs caller of the organisation; see `organizationBudget`.
    public init(
        transport: any HTTPTransport,
        baseURL: String = "https://api.slack.com/audit/v1",
        token: String,
        budget: any RequestBudget,
        retry: RetryPolicy = .standard,
        requestTimeout: Duration = .seconds(30),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        logger: Logger
    ) {
        self.transport = transport
        let base = baseURL.withoutTrailingSlashes
        self.baseURL = base
        self.token = token
        self.budget = budget
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.sleep = sleep
        self.logger = logger
    }

    /// Slack allows about 50 Audit Logs calls a minute per organisation; a small burst lets a few pages go at once.
    public static func organizationBudget(
        clock: any SentryClock = SystemClock(), onWait: @escaping @Sendable (Duration) -> Void = { _ in }
    ) -> TokenBucket {
        TokenBucket(capacity: 3, refillPerSecond: 50.0 / 60.0, clock: clock, onWait: onWait)
    }

    /// One page of entries, newest first.
    public func logs(_ query: SlackAuditQuery) async throws -> SlackAuditPage {
        let queryString = query.items.map { "\(Self.percentEncoded($0.0))=\(Self.percentEncoded($0.1))" }.joined(separator: "&")
        let request = HTTPRequest(
            method: "GET",
            url: "\(baseURL)/logs?\(queryString)",
            headers: [HTTPHeader("Authorization", "Bearer \(token)"), HTTPHeader("Accept", "application/json")],
            timeout: requestTimeout
        )
        var attempt = 0
        var holdsToken = false
        while true {
            attempt += 1
            if !holdsToken { try await budget.acquire() }
            holdsToken = false
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch let error as TransportError {
                // Reading logs changes nothing, so any transient failure may be repeated.
                guard error.isTransient else { throw fail(.transport(error), attempt: attempt) }
                try await backOff(.transport(error), attempt: attempt)
                continue
            } catch let error as CancellationError {
                throw error
            } catch {
                throw fail(.transport(.failed(code: -1, message: String(describing: error))), attempt: attempt)
            }
            logger.debug(
                "slack audit logs answered",
                metadata: ["http.status": "\(response.status)", "slack_audit.attempt": "\(attempt)"]
            )

            let answer = JSONValue.parse(response.body)
            // The shape samples carry `"error": ""` next to `"ok": true`: only a non-empty error is one.
            let code = answer?["error"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            if response.status == 429 || code == "ratelimited" {
                let wait = retry.retryAfter(header: response.headers["retry-after"])
                await budget.drain(for: wait)
                let error = SlackAuditError.rateLimited(retryAfter: wait)
                guard wait <= retry.maxRetryAfter, attempt < retry.maxAttempts else { throw fail(error, attempt: attempt) }
                logger.warning(
                    "slack audit logs rate limited; waiting",
                    metadata: ["slack_audit.attempt": "\(attempt)", "slack_audit.retry_in": "\(wait)"]
                )
                try await sleep(wait)
                // A rate-limited call was not served, so its token still stands for the repeat.
                holdsToken = true
                continue
            }
            if code != nil || answer?["ok"]?.boolValue == false {
                let error = SlackAuditError.api(code: code ?? "unknown_error", status: response.status)
                guard error.isRetryable else { throw fail(error, attempt: attempt) }
                try await backOff(error, attempt: attempt)
                continue
            }
            if response.status >= 500 {
                try await backOff(.http(status: response.status), attempt: attempt)
                continue
            }
            guard (200...299).contains(response.status) else { throw fail(.http(status: response.status), attempt: attempt) }
            guard let page = SlackAuditEntry.decodePage(response.body) else { throw fail(.malformedResponse, attempt: attempt) }
            return page
        }
    }

    // MARK: plumbing

    /// Waits before the next attempt, or throws when none is left.
    private func backOff(_ error: SlackAuditError, attempt: Int) async throws {
        guard attempt < retry.maxAttempts else {
            logger.warning(
                "slack audit logs failed; no attempts left",
                metadata: ["slack_audit.error": "\(error)", "slack_audit.attempt": "\(attempt)"]
            )
            throw error
        }
        let delay = retry.backoff(afterAttempt: attempt)
        logger.warning(
            "slack audit logs failed; retrying",
            metadata: ["slack_audit.error": "\(error)", "slack_audit.attempt": "\(attempt)", "slack_audit.retry_in": "\(delay)"]
        )
        try await sleep(delay)
    }

    /// Logs an error that goes to the caller and hands it back for throwing.
    private func fail(_ error: SlackAuditError, attempt: Int) -> SlackAuditError {
        logger.warning("slack audit logs failed", metadata: ["slack_audit.error": "\(error)", "slack_audit.attempt": "\(attempt)"])
        return error
    }

    /// RFC 3986 unreserved characters stay; everything else (a cursor's `=`, an action list's `,`) is encoded.
    static func percentEncoded(_ text: String) -> String { PercentEncoding.encode(text) }
}
