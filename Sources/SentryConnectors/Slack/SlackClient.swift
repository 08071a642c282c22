import Foundation
import Logging
import SentryCore

/// Who sees a `response_url` reply.
public enum SlackResponseType: String, Sendable {
    case ephemeral
    case inChannel = "in_channel"
}

/// Slack Web API and `response_url` calls, with Slack's rate limits and transient failures handled here.
public struct SlackClient: Sendable {
    public let transport: any HTTPTransport
    public let baseURL: String
    public let retry: RetryPolicy
    public let requestTimeout: Duration
    private let token: String
    private let sleep: @Sendable (Duration) async throws -> Void
    private let logger: Logger
    /// Deadlines set by 429 answers, shared by every copy of this client.
    public let rateLimits: SlackRateLimitHold

    public init(
        transport: any HTTPTransport,
        baseURL: String = "https://slack.com/api",
        token: String,
        retry: RetryPolicy = .standard,
        requestTimeout: Duration = .seconds(10),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
        rateLimits: SlackRateLimitHold = SlackRateLimitHold(),
        logger: Logger
    ) {
        self.rateLimits = rateLimits
        self.transport = transport
        let base = baseURL.withoutTrailingSlashes
        self.baseURL = base
        self.token = token
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.sleep = sleep
        self.logger = logger
    }

    // MARK: chat

    /// Posts a message. Not repeated after a timeout or a 5xx, which leave open whether it was posted: on such
    /// an error look for the message (by `metadata`) with `history` before posting again.
    public func postMessage(
        channel: String,
        text: String,
        blocks: JSONValue? = nil,
        threadTS: String? = nil,
        metadata: SlackMessageMetadata? = nil
    ) async throws -> SlackMessageRef {
        var body: [String: JSONValue] = ["channel": .string(channel), "text": .string(text)]
        body["blocks"] = blocks
        body["thread_ts"] = threadTS.map(JSONValue.string)
        body["metadata"] = metadata?.json
        let method = "chat.postMessage"
        let answer = try await post(method, body, safeToRepeat: false, channel: channel)
        guard let postedChannel = answer["channel"]?.stringValue, let ts = answer["ts"]?.stringValue else {
            throw SlackError.malformedResponse(method: method)
        }
        return SlackMessageRef(channel: postedChannel, ts: ts)
    }

    public func update(
        channel: String,
        ts: String,
        text: String,
        blocks: JSONValue? = nil,
        metadata: SlackMessageMetadata? = nil
    ) async throws {
        var body: [String: JSONValue] = ["channel": .string(channel), "ts": .string(ts), "text": .string(text)]
        body["blocks"] = blocks
        body["metadata"] = metadata?.json
        _ = try await post("chat.update", body, safeToRepeat: true)
    }

    public func postEphemeral(
        channel: String,
        user: String,
        text: String,
        blocks: JSONValue? = nil,
        threadTS: String? = nil
    ) async throws {
        var body: [String: JSONValue] = ["channel": .string(channel), "user": .string(user), "text": .string(text)]
        body["blocks"] = blocks
        body["thread_ts"] = threadTS.map(JSONValue.string)
        _ = try await post("chat.postEphemeral", body, safeToRepeat: true)
    }

    /// Replies through an interaction's `response_url`, a webhook that takes no token.
    public func respond(
        to responseURL: String,
        text: String,
        blocks: JSONValue? = nil,
        responseType: SlackResponseType = .ephemeral,
        replaceOriginal: Bool = false
    ) async throws {
        var body: [String: JSONValue] = [
            "text": .string(text),
            "response_type": .string(responseType.rawValue),
            "replace_original": .bool(replaceOriginal),
        ]
        body["blocks"] = blocks
        let request = HTTPRequest(
            method: "POST",
            url: responseURL,
            headers: [HTTPHeader("Content-Type", Self.jsonContentType)],
            body: try encode(body),
            timeout: requestTimeout
        )
        // Webhooks have answered a bare `ok` as well as JSON; only an explicit `ok: false` is a failure.
        _ = try await execute("response_url", request, safeToRepeat: true, requireOK: false)
    }

    /// Opens a modal; `triggerID` lives for 3 seconds, so this is not retried after a timeout.
    /// Publishes a user's App Home tab (`views.publish`); publishing the same view again is harmless.
    public func publishView(userID: String, view: JSONValue) async throws {
        _ = try await post("views.publish", ["user_id": .string(userID), "view": view], safeToRepeat: true)
    }

    public func openView(triggerID: String, view: JSONValue) async throws {
        _ = try await post("views.open", ["trigger_id": .string(triggerID), "view": view], safeToRepeat: false)
    }

    /// `apps.connections.open`: a fresh, single-use Socket Mode URL. Call it on a client made with the app-level
    /// token (`xapp-…`), which goes in the Bearer header only.
    public func openConnection() async throws -> String {
        let method = "apps.connections.open"
        let answer = try await post(method, [:], safeToRepeat: true)
        guard let url = answer["url"]?.stringValue, !url.isEmpty else { throw SlackError.malformedResponse(method: method) }
        return url
    }

    /// The direct message channel with one user (`conversations.open`, which opens it or finds it again: safe to repeat).
    public func openDirectMessage(userID: String) async throws -> String {
        let method = "conversations.open"
        let answer = try await post(method, ["users": .string(userID)], safeToRepeat: true)
        guard let id = answer["channel"]?["id"]?.stringValue, !id.isEmpty else { throw SlackError.malformedResponse(method: method) }
        return id
    }

    // MARK: reads

    public func userInfo(id: String) async throws -> SlackUser {
        let method = "users.info"
        let answer = try await get(method, [("user", id)])
        guard let user = answer["user"].flatMap(SlackUser.init(json:)) else {
            throw SlackError.malformedResponse(method: method)
        }
        return user
    }

    /// The user with this email address (`users.lookupByEmail`); nil when no user has it (`users_not_found`).
    public func userID(forEmail email: String) async throws -> String? {
        let method = "users.lookupByEmail"
        let answer: [String: JSONValue]
        do {
            answer = try await get(method, [("email", email)])
        } catch SlackError.api(_, "users_not_found") {
            return nil
        }
        guard let id = answer["user"]?["id"]?.stringValue else { throw SlackError.malformedResponse(method: method) }
        return id
    }

    /// Newest first, at most `limit` messages (one page), metadata included; `latest` pages backwards.
    public func history(channel: String, oldest: String? = nil, latest: String? = nil, limit: Int = 100) async throws -> [SlackHistoryMessage] {
        let method = "conversations.history"
        var query = [("channel", channel), ("limit", String(limit)), ("include_all_metadata", "true")]
        if let oldest { query.append(("oldest", oldest)) }
        if let latest { query.append(("latest", latest)) }
        let answer = try await get(method, query)
        guard let messages = answer["messages"]?.arrayValue else {
            throw SlackError.malformedResponse(method: method)
        }
        return messages.compactMap(SlackHistoryMessage.init(json:))
    }

    /// One page of a thread, oldest first (the parent message first), metadata included; `cursor` pages on.
    public func replies(channel: String, ts: String, cursor: String? = nil, limit: Int = 200) async throws -> (
        messages: [SlackHistoryMessage], nextCursor: String?
    ) {
        let method = "conversations.replies"
        var query = [("channel", channel), ("ts", ts), ("limit", String(limit)), ("include_all_metadata", "true")]
        if let cursor { query.append(("cursor", cursor)) }
        let answer = try await get(method, query)
        guard let messages = answer["messages"]?.arrayValue else {
            throw SlackError.malformedResponse(method: method)
        }
        let next = answer["response_metadata"]?["next_cursor"]?.stringValue
        return (messages.compactMap(SlackHistoryMessage.init(json:)), next?.isEmpty == false ? next : nil)
    }

    /// User ids in a user group (`S…`).
    public func usergroupMembers(id: String) async throws -> [String] {
        let method = "usergroups.users.list"
        let answer = try await get(method, [("usergroup", id)])
        guard let users = answer["users"]?.arrayValue else {
            throw SlackError.malformedResponse(method: method)
        }
        return users.compactMap(\.stringValue)
    }

    // MARK: plumbing

    static let jsonContentType = "application/json; charset=utf-8"

    private var authorization: HTTPHeader { HTTPHeader("Authorization", "Bearer \(token)") }

    private func post(_ method: String, _ body: [String: JSONValue], safeToRepeat: Bool, channel: String? = nil) async throws -> [String: JSONValue] {
        let request = HTTPRequest(
            method: "POST",
            url: "\(baseURL)/\(method)",
            headers: [authorization, HTTPHeader("Content-Type", Self.jsonContentType)],
            body: try encode(body),
            timeout: requestTimeout
        )
        return try await execute(method, request, safeToRepeat: safeToRepeat, requireOK: true, channel: channel)
    }

    private func get(_ method: String, _ query: [(String, String)]) async throws -> [String: JSONValue] {
        let queryString = query.map { "\(Self.percentEncoded($0.0))=\(Self.percentEncoded($0.1))" }.joined(separator: "&")
        let request = HTTPRequest(
            method: "GET",
            url: "\(baseURL)/\(method)?\(queryString)",
            headers: [authorization],
            timeout: requestTimeout
        )
        return try await execute(method, request, safeToRepeat: true, requireOK: true)
    }

    private func encode(_ body: [String: JSONValue]) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Array(try encoder.encode(body))
    }

    private static func percentEncoded(_ text: String) -> String { PercentEncoding.encode(text) }

    private enum Outcome {
        case done([String: JSONValue])
        case fail(SlackError)
        case retry(SlackError, after: Duration)
    }

    /// `safeToRepeat` is false when a repeat could act twice (a second post); such a call is then repeated
    /// only when Slack certainly did not act on it: a rate limit, or a connection that was never made.
    private func execute(
        _ method: String,
        _ request: HTTPRequest,
        safeToRepeat: Bool,
        requireOK: Bool,
        channel: String? = nil
    ) async throws -> [String: JSONValue] {
        let limitClass = SlackRateLimitHold.key(method: method, channel: channel)
        var attempt = 0
        var waitedOutRetryAfter = false
        while true {
            attempt += 1
            // Another call of this class was answered 429: wait out its deadline before asking (unless this call
            // has just waited out its own).
            let held = waitedOutRetryAfter ? .zero : await rateLimits.remaining(limitClass)
            waitedOutRetryAfter = false
            if held > retry.maxRetryAfter {
                // Longer than this client waits in place: the caller reschedules, as after its own 429.
                throw SlackError.rateLimited(method: method, retryAfter: held)
            }
            if held > .zero {
                logger.debug("slack call held by an earlier rate limit", metadata: ["slack.method": "\(method)", "slack.wait": "\(held)"])
                try await sleep(held)
            }
            let outcome: Outcome
            do {
                let response = try await transport.send(request)
                logger.debug(
                    "slack call answered",
                    metadata: ["slack.method": "\(method)", "http.status": "\(response.status)", "slack.attempt": "\(attempt)"]
                )
                outcome = classify(response, method: method, attempt: attempt, safeToRepeat: safeToRepeat, requireOK: requireOK)
            } catch let error as TransportError {
                let retryable = error.isTransient && (safeToRepeat || !error.mayHaveBeenDelivered)
                let slackError = SlackError.transport(method: method, error)
                outcome = retryable ? .retry(slackError, after: retry.backoff(afterAttempt: attempt)) : .fail(slackError)
            } catch let error as CancellationError {
                throw error
            } catch {
                throw SlackError.transport(method: method, .failed(code: -1, message: String(describing: error)))
            }

            switch outcome {
            case .done(let answer):
                return answer
            case .fail(let error):
                if case .rateLimited(_, let retryAfter) = error { await rateLimits.hold(limitClass, for: retryAfter) }
                logger.warning(
                    "slack call failed",
                    metadata: ["slack.method": "\(method)", "slack.error": "\(error)", "slack.attempt": "\(attempt)"]
                )
                throw error
            case .retry(let error, let delay):
                if case .rateLimited(_, let retryAfter) = error {
                    // Told at once, so every call of this class waits, not only this one.
                    await rateLimits.hold(limitClass, for: retryAfter)
                    waitedOutRetryAfter = true
                }
                guard attempt < retry.maxAttempts else {
                    logger.warning(
                        "slack call failed; no attempts left",
                        metadata: ["slack.method": "\(method)", "slack.error": "\(error)", "slack.attempt": "\(attempt)"]
                    )
                    throw error
                }
                logger.warning(
                    "slack call failed; retrying",
                    metadata: [
                        "slack.method": "\(method)", "slack.error": "\(error)", "slack.attempt": "\(attempt)",
                        "slack.retry_in": "\(delay)",
                    ]
                )
                try await sleep(delay)
            }
        }
    }

    private func classify(
        _ response: HTTPResponse,
        method: String,
        attempt: Int,
        safeToRepeat: Bool,
        requireOK: Bool
    ) -> Outcome {
        let answer = JSONValue.parse(response.body)?.objectValue
        let code = answer?["error"]?.stringValue
        if response.status == 429 || code == "ratelimited" {
            // Slack did not act on a rate-limited call, so even a post may be repeated.
            let wait = retry.retryAfter(header: response.headers["retry-after"])
            let error = SlackError.rateLimited(method: method, retryAfter: wait)
            return wait > retry.maxRetryAfter ? .fail(error) : .retry(error, after: wait)
        }
        if response.status >= 500 {
            let error = SlackError.http(method: method, status: response.status)
            return safeToRepeat ? .retry(error, after: retry.backoff(afterAttempt: attempt)) : .fail(error)
        }
        if let answer, answer["ok"]?.boolValue == false {
            let error = SlackError.api(method: method, code: code ?? "unknown_error")
            return error.isRetryable && safeToRepeat
                ? .retry(error, after: retry.backoff(afterAttempt: attempt)) : .fail(error)
        }
        guard (200...299).contains(response.status) else {
            return .fail(.http(method: method, status: response.status))
        }
        if requireOK {
            guard let answer, answer["ok"]?.boolValue == true else { return .fail(.malformedResponse(method: method)) }
            return .done(answer)
        }
        return .done(answer ?? [:])
    }
}
