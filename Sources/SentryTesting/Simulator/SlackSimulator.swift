import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SentryCore

/// A local stand-in for Slack's Web API and `response_url` webhooks, answering in the shapes of Slack's
/// OpenAPI spec. Used by `sentry demo`, the benchmark and the tests; it records every request it gets.
public final class SlackSimulator: Sendable {
    /// A request as the simulator saw it.
    public struct Recorded: Sendable, Equatable {
        public var method: String
        public var httpMethod: String
        public var authorization: String?
        public var contentType: String?
        public var body: JSONValue?
        public var query: [String: String]
    }

    /// A message in a channel (or a thread).
    public struct Message: Sendable, Equatable {
        public var channel: String
        public var ts: String
        public var text: String
        public var blocks: JSONValue?
        public var threadTS: String?
        public var metadata: JSONValue?
        public var edits: Int
    }

    public enum Fault: Sendable, Equatable {
        /// HTTP 429 with Retry-After.
        case rateLimited(retryAfter: Int)
        /// An HTTP status with no Slack body.
        case status(Int)
        /// Slack's `ok: false` with an error code.
        case error(String)
        /// Does the work, then answers 500: the caller cannot know it succeeded.
        case lostAnswer
        /// Does the work, then holds the answer for this long (a caller killed meanwhile never learns of it).
        case stall(seconds: Int)
    }

    struct State {
        var requests: [Recorded] = []
        var messages: [Message] = []
        var responses: [JSONValue] = []
        var ephemerals: [JSONValue] = []
        var faults: [String: [Fault]] = [:]
        var clock: Double = 0
        var usergroups: [String: [String]] = [:]
        /// Users `users.lookupByEmail` finds, by lowercased address.
        var emails: [String: String] = [:]
        var views: [JSONValue] = []
        var homes: [String: JSONValue] = [:]
        var homePublishes = 0
        var limits: Limits?
        var postTimes: [String: [Double]] = [:]
        var updateTimes: [Double] = []
        var rateLimited = 0
        /// `users.info` answers that differ from an active human (deactivated, bot), by user id.
        var accounts: [String: Account] = [:]
        /// Direct message channels `conversations.open` made, by channel id: the user.
        var directMessages: [String: String] = [:]
    }

    /// Slack's posting limits, enforced when set: per-channel posts and workspace-wide updates over a window.
    public struct Limits: Sendable {
        public var postsPerChannel: Int
        public var postWindow: Double
        public var updates: Int
        public var updateWindow: Double
        public init(postsPerChannel: Int = 5, postWindow: Double = 5, updates: Int = 50, updateWindow: Double = 60) {
            self.postsPerChannel = postsPerChannel
            self.postWindow = postWindow
            self.updates = updates
            self.updateWindow = updateWindow
        }
    }

    public func enforce(_ limits: Limits) {
        state.withLock { $0.limits = limits }
    }

    /// How many calls were answered 429 because of the enforced limits.
    public var rateLimitedCount: Int { state.current.rateLimited }

    public let token: String
    let state = Locked(State())
    private let socketMode = Locked<SocketModeSimulator?>(nil)

    /// `apps.connections.open` is answered by this Socket Mode simulator (with its app-level token).
    public func attach(socketMode simulator: SocketModeSimulator) {
        socketMode.withLock { $0 = simulator }
    }

    public init(token: String) {
        self.token = token
    }

    // MARK: Observing and steering

    public var requests: [Recorded] { state.current.requests }
    public var messages: [Message] { state.current.messages }
    /// Bodies posted to response URLs.
    public var responses: [JSONValue] { state.current.responses }
    /// `chat.postEphemeral` bodies.
    public var ephemerals: [JSONValue] { state.current.ephemerals }

    /// Modals opened with `views.open`.
    public var views: [JSONValue] { state.current.views }
    /// Each user's App Home tab as last published with `views.publish`.
    public var homes: [String: JSONValue] { state.current.homes }
    public var homePublishes: Int { state.current.homePublishes }

    public func topLevelMessages(channel: String? = nil) -> [Message] {
        messages.filter { $0.threadTS == nil && (channel == nil || $0.channel == channel) }
    }

    public func replies(to ts: String) -> [Message] {
        messages.filter { $0.threadTS == ts }
    }

    /// Queues faults answered to the next calls of a method, in order.
    public func inject(_ faults: [Fault], for method: String) {
        state.withLock { $0.faults[method, default: []] += faults }
    }

    /// A workspace user with this email address, for `users.lookupByEmail`.
    public func setUser(_ id: String, email: String) {
        state.withLock { $0.emails[email.lowercased()] = id }
    }

    public func setUserGroup(_ id: String, members: [String]) {
        state.withLock { $0.usergroups[id] = members }
    }

    /// Waits (polling, bounded) until a condition on the simulator holds.
    @discardableResult
    public func waitUntil(timeout: Duration = .seconds(10), _ condition: (SlackSimulator) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(self)
    }

    // MARK: HTTP

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.post("/api/:method") { request, context in
            try await self.handle(request, method: context.parameters.get("method") ?? "", isGet: false)
        }
        router.get("/api/:method") { request, context in
            try await self.handle(request, method: context.parameters.get("method") ?? "", isGet: true)
        }
        router.post("/response/:id") { request, _ in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 20)
            let body = JSONValue.parse(Array(buffer.readableBytesView))
            let fault = self.nextFault("response_url")
            self.state.withLock {
                $0.requests.append(
                    Recorded(
                        method: "response_url", httpMethod: "POST", authorization: request.headers[.authorization],
                        contentType: request.headers[.contentType], body: body, query: [:]))
            }
            if let fault, let response = Self.faultResponse(fault) { return response }
            self.state.withLock { $0.responses.append(body ?? .null) }
            return Self.json(["ok": true])
        }
        return router
    }

    func nextFault(_ method: String) -> Fault? {
        state.withLock { state -> Fault? in
            guard var queue = state.faults[method], !queue.isEmpty else { return nil }
            let fault = queue.removeFirst()
            state.faults[method] = queue
            return fault
        }
    }

    static func faultResponse(_ fault: Fault) -> Response? {
        switch fault {
        case .rateLimited(let seconds):
            return SimulatedAnswers.rateLimited(retryAfter: seconds)
        case .status(let code):
            return Response(status: .init(code: code))
        case .error(let code):
            return json(["ok": false, "error": .string(code)])
        case .lostAnswer, .stall:
            return nil
        }
    }

    func handle(_ request: Request, method: String, isGet: Bool) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        let bytes = Array(buffer.readableBytesView)
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let body = isGet ? nil : JSONValue.parse(bytes)
        state.withLock {
            $0.requests.append(
                Recorded(
                    method: method, httpMethod: isGet ? "GET" : "POST", authorization: request.headers[.authorization],
                    contentType: request.headers[.contentType], body: body, query: query))
        }
        if method == "apps.connections.open", let simulator = socketMode.current {
            return simulator.openResponse(authorization: request.headers[.authorization])
        }
        // Admin methods take the org admin's user token, everything else the bot token.
        let adminMethod = method.hasPrefix("admin.")
        guard
            request.headers[.authorization] == "Bearer \(token)"
                || (adminMethod && request.headers[.authorization]?.hasPrefix("Bearer xoxp-") == true)
        else {
            return Self.json(["ok": false, "error": "not_authed"])
        }
        if !isGet, request.headers[.contentType]?.hasPrefix("application/json") != true {
            return Self.json(["ok": false, "error": "invalid_form_data"])
        }
        if !isGet, body?.objectValue == nil { return Self.json(["ok": false, "error": "invalid_json"]) }
        let fault = nextFault(method)
        if let fault, let response = Self.faultResponse(fault) { return response }
        if overLimit(method, body: body) { return Self.faultResponse(.rateLimited(retryAfter: 1))! }
        let answer = perform(method, body: body ?? [:], query: query)
        if fault == .lostAnswer { return Response(status: .internalServerError) }
        if case .stall(let seconds) = fault { try? await Task.sleep(for: .seconds(seconds)) }
        return Self.json(answer)
    }

    /// Counts a post or an update against the enforced limits; true when it is over them.
    func overLimit(_ method: String, body: JSONValue?) -> Bool {
        state.withLock { state -> Bool in
            guard let limits = state.limits else { return false }
            let now = Date().timeIntervalSince1970
            switch method {
            case "chat.postMessage":
                let channel = body?["channel"]?.stringValue ?? ""
                var times = (state.postTimes[channel] ?? []).filter { $0 > now - limits.postWindow }
                if times.count >= limits.postsPerChannel {
                    state.rateLimited += 1
                    return true
                }
                times.append(now)
                state.postTimes[channel] = times
            case "chat.update":
                state.updateTimes = state.updateTimes.filter { $0 > now - limits.updateWindow }
                if state.updateTimes.count >= limits.updates {
                    state.rateLimited += 1
                    return true
                }
                state.updateTimes.append(now)
            default:
                break
            }
            return false
        }
    }

    func perform(_ method: String, body: JSONValue, query: [String: String]) -> JSONValue {
        switch method {
        case "chat.postMessage":
            guard let channel = body["channel"]?.stringValue, !channel.isEmpty else { return ["ok": false, "error": "channel_not_found"] }
            let text = body["text"]?.stringValue ?? ""
            if text.isEmpty && body["blocks"] == nil { return ["ok": false, "error": "no_text"] }
            if let problem = BlockKitCheck.messageProblem(text: text, blocks: body["blocks"]) {
                return ["ok": false, "error": "invalid_blocks", "detail": .string(problem)]
            }
            let thread = body["thread_ts"]?.stringValue
            return state.withLock { state -> JSONValue in
                if channel.hasPrefix("D"), state.directMessages[channel] == nil { return ["ok": false, "error": "channel_not_found"] }
                if let thread, !state.messages.contains(where: { $0.ts == thread && $0.channel == channel }) {
                    return ["ok": false, "error": "thread_not_found"]
                }
                let ts = Self.nextTS(&state)
                state.messages.append(
                    Message(
                        channel: channel, ts: ts, text: text, blocks: body["blocks"], threadTS: thread, metadata: body["metadata"], edits: 0))
                return [
                    "ok": true, "channel": .string(channel), "ts": .string(ts),
                    "message": ["type": "message", "text": .string(text), "ts": .string(ts)],
                ]
            }
        case "chat.update":
            guard let channel = body["channel"]?.stringValue, let ts = body["ts"]?.stringValue else {
                return ["ok": false, "error": "invalid_arguments"]
            }
            if let problem = Self.blockProblem(body["blocks"]) { return ["ok": false, "error": "invalid_blocks", "detail": .string(problem)] }
            return state.withLock { state -> JSONValue in
                guard let index = state.messages.firstIndex(where: { $0.channel == channel && $0.ts == ts }) else {
                    return ["ok": false, "error": "message_not_found"]
                }
                state.messages[index].text = body["text"]?.stringValue ?? state.messages[index].text
                state.messages[index].blocks = body["blocks"] ?? state.messages[index].blocks
                if let metadata = body["metadata"] { state.messages[index].metadata = metadata }
                state.messages[index].edits += 1
                return ["ok": true, "channel": .string(channel), "ts": .string(ts), "text": .string(state.messages[index].text)]
            }
        case "chat.postEphemeral":
            guard body["channel"]?.stringValue != nil, body["user"]?.stringValue != nil else { return ["ok": false, "error": "invalid_arguments"] }
            return state.withLock { state -> JSONValue in
                state.ephemerals.append(body)
                return ["ok": true, "message_ts": .string(Self.nextTS(&state))]
            }
        case "conversations.history":
            guard let channel = query["channel"] else { return ["ok": false, "error": "channel_not_found"] }
            let oldest = Double(query["oldest"] ?? "0") ?? 0
            let latest = Double(query["latest"] ?? "") ?? .infinity
            let limit = Int(query["limit"] ?? "100") ?? 100
            let withMetadata = query["include_all_metadata"] == "true" || query["include_all_metadata"] == "1"
            let all = topLevelMessages(channel: channel).filter { (Double($0.ts) ?? 0) >= oldest && (Double($0.ts) ?? 0) < latest }
            let found = all.reversed().prefix(limit)
            return [
                "ok": true, "has_more": .bool(all.count > limit),
                "messages": .array(
                    found.map { message in
                        var object: [String: JSONValue] = [
                            "type": "message", "ts": .string(message.ts), "text": .string(message.text), "bot_id": "B0SENTRY",
                        ]
                        if withMetadata, let metadata = message.metadata { object["metadata"] = metadata }
                        return .object(object)
                    }),
            ]
        case "conversations.replies":
            guard let channel = query["channel"], let parent = query["ts"],
                let head = messages.first(where: { $0.channel == channel && $0.ts == parent && $0.threadTS == nil })
            else { return ["ok": false, "error": "thread_not_found"] }
            let limit = max(1, min(Int(query["limit"] ?? "100") ?? 100, 1_000))
            let start = Int(query["cursor"] ?? "") ?? 0
            let thread = [head] + messages.filter { $0.channel == channel && $0.threadTS == parent }
            let page = thread.dropFirst(start).prefix(limit)
            let withMetadata = query["include_all_metadata"] == "true" || query["include_all_metadata"] == "1"
            let more = start + page.count < thread.count
            return [
                "ok": true, "has_more": .bool(more),
                "messages": .array(
                    page.map { message in
                        var object: [String: JSONValue] = [
                            "type": "message", "ts": .string(message.ts), "text": .string(message.text), "bot_id": "B0SENTRY",
                            "thread_ts": .string(parent),
                        ]
                        if withMetadata, let metadata = message.metadata { object["metadata"] = metadata }
                        return .object(object)
                    }),
                "response_metadata": ["next_cursor": .string(more ? String(start + page.count) : "")],
            ]
        case "usergroups.users.list":
            guard let group = query["usergroup"], let members = state.current.usergroups[group] else {
                return ["ok": false, "error": "no_such_subteam"]
            }
            return ["ok": true, "users": .array(members.map(JSONValue.string))]
        case "users.lookupByEmail":
            guard let email = query["email"]?.removingPercentEncoding, let id = state.current.emails[email.lowercased()] else {
                return ["ok": false, "error": "users_not_found"]
            }
            return [
                "ok": true, "user": ["id": .string(id), "name": .string(id.lowercased()), "deleted": false, "profile": ["email": .string(email)]],
            ]
        case "users.info", "conversations.open":
            return performConversations(method, body: body, query: query)
        case "views.open":
            guard let trigger = body["trigger_id"]?.stringValue, !trigger.isEmpty else { return ["ok": false, "error": "invalid_trigger_id"] }
            guard let view = body["view"], view["type"] == "modal", view["title"] != nil, view["blocks"]?.arrayValue != nil else {
                return ["ok": false, "error": "invalid_arguments"]
            }
            if let problem = BlockKitCheck.viewProblem(view) { return ["ok": false, "error": "invalid_blocks", "detail": .string(problem)] }
            state.withLock { $0.views.append(view) }
            return ["ok": true, "view": ["id": "V0SIMULATED", "type": "modal"]]
        case "views.publish":
            guard let user = body["user_id"]?.stringValue, !user.isEmpty else { return ["ok": false, "error": "invalid_arguments"] }
            guard let view = body["view"], view["type"] == "home" else { return ["ok": false, "error": "invalid_arguments"] }
            if let problem = BlockKitCheck.homeProblem(view) { return ["ok": false, "error": "invalid_blocks", "detail": .string(problem)] }
            state.withLock {
                $0.homes[user] = view
                $0.homePublishes += 1
            }
            return ["ok": true, "view": ["id": "V0HOME", "type": "home"]]
        case "admin.users.session.reset":
            guard body["user_id"]?.stringValue != nil else { return ["ok": false, "error": "invalid_arguments"] }
            return ["ok": true]
        case "auth.test":
            return ["ok": true, "user_id": "U0SENTRYBOT", "team_id": "T0SIMULATED"]
        default:
            return ["ok": false, "error": "unknown_method"]
        }
    }

    /// Message timestamps as Slack makes them: wall-clock seconds with microseconds, unique and increasing.
    static func nextTS(_ state: inout State) -> String {
        state.clock = max(state.clock + 0.000001, Date().timeIntervalSince1970)
        return String(format: "%.6f", state.clock)
    }

    /// The Block Kit rules Slack enforces, measured as Slack measures them (see `BlockKitCheck`).
    public static func blockProblem(_ blocks: JSONValue?) -> String? { BlockKitCheck.problem(blocks) }

    static func json(_ value: JSONValue) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: value.encoded())))
    }

    /// The simulator as a runnable application on loopback.
    public func application(port: Int = 0, onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        Application(
            router: router(), configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "slack-simulator", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}
