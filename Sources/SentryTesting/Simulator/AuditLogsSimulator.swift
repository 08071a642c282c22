import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SentryCore

/// A local stand-in for Slack's Audit Logs API (`GET /audit/v1/logs`), answering in the shapes of the audit
/// log samples: entries newest first, `oldest`/`latest`/`limit`/`action` filters and cursor pagination.
/// Records every request it gets.
public final class AuditLogsSimulator: Sendable {
    /// A request as the simulator saw it.
    public struct Recorded: Sendable, Equatable {
        public var path: String
        public var authorization: String?
        /// Percent-decoded query parameters.
        public var query: [String: String]
    }

    public enum Fault: Sendable, Equatable {
        /// HTTP 429 with Retry-After (seconds) and Slack's `ratelimited` body.
        case rateLimited(retryAfter: Int)
        /// An HTTP status with no body.
        case status(Int)
        /// `ok: false` with this error code, HTTP 200.
        case error(String)
        /// Answers normally; places a later fault on a chosen request (the second page, say).
        case pass
    }

    struct Stored {
        /// Insertion order; breaks ties between entries created in the same second.
        var seq: Int
        /// `date_create`; an entry without one sorts as the newest and passes every time filter.
        var date: Int64
        var action: String?
        var json: JSONValue
    }

    struct State {
        var entries: [Stored] = []
        var nextSeq = 0
        var requests: [Recorded] = []
        var faults: [Fault] = []
    }

    public static let path = "/audit/v1/logs"
    /// Slack's own default page size when `limit` is absent.
    public static let defaultLimit = 100

    public let token: String
    private let state = Locked(State())

    public init(token: String) {
        self.token = token
    }

    // MARK: Observing and steering

    public var requests: [Recorded] { state.current.requests }

    /// Entries held, newest first, as the API would list them unfiltered.
    public var entries: [JSONValue] { Self.ordered(state.current.entries).map(\.json) }

    /// Adds entries as Slack would publish them (in any order; late ones too).
    public func add(_ entries: [JSONValue]) {
        state.withLock { state in
            for entry in entries {
                let date = entry["date_create"]?.numberValue.map { Int64($0) } ?? Int64.max
                state.entries.append(Stored(seq: state.nextSeq, date: date, action: entry["action"]?.stringValue, json: entry))
                state.nextSeq += 1
            }
        }
    }

    /// Queues faults answered to the next requests, in order.
    public func inject(_ faults: [Fault]) {
        state.withLock { $0.faults += faults }
    }

    /// An entry in the shape of the Audit Logs samples (`logs_response.*`): actor user, entity, context with
    /// location, user agent, IP and session id (a number, as in the SDK fixture), and `details` when given.
    public static func entry(
        id: String,
        action: String,
        at dateCreate: Int64,
        user: String = "W0ALICE01",
        ip: String? = "203.0.113.7",
        file: (id: String, name: String)? = nil,
        channel: String? = nil,
        details: JSONValue? = nil,
        sessionID: JSONValue = .number(1_656_410_836_837)
    ) -> JSONValue {
        let actor: JSONValue = [
            "id": .string(user), "name": .string("User \(user)"), "email": .string("\(user.lowercased())@example.com"), "team": "E0SIMULATED",
        ]
        var entity: [String: JSONValue]
        if let file {
            entity = ["type": "file", "file": ["id": .string(file.id), "name": .string(file.name), "filetype": "pdf", "title": .string(file.name)]]
        } else if let channel {
            entity = [
                "type": "channel",
                "channel": ["id": .string(channel), "name": "general", "privacy": "public", "is_shared": false, "is_org_shared": false],
            ]
        } else {
            entity = ["type": "user", "user": actor]
        }
        if file != nil, let channel { entity["channel"] = ["id": .string(channel), "name": "general", "privacy": "private"] }
        var context: [String: JSONValue] = [
            "location": ["type": "workspace", "id": "T0SIMULATED", "name": "Simulated", "domain": "simulated"],
            "ua": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
            "session_id": sessionID,
        ]
        context["ip_address"] = ip.map(JSONValue.string)
        var object: [String: JSONValue] = [
            "id": .string(id), "date_create": .number(Double(dateCreate)), "action": .string(action),
            "actor": ["type": "user", "user": actor], "entity": .object(entity), "context": .object(context),
        ]
        object["details"] = details
        return .object(object)
    }

    // MARK: HTTP

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get(RouterPath(Self.path)) { request, _ in self.handle(request) }
        return router
    }

    func handle(_ request: Request) -> Response {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let authorization = request.headers[.authorization]
        let fault = state.withLock { state -> Fault? in
            state.requests.append(Recorded(path: request.uri.path, authorization: authorization, query: query))
            return state.faults.isEmpty ? nil : state.faults.removeFirst()
        }
        guard let authorization else { return Self.json(["ok": false, "error": "not_authed"], status: .unauthorized) }
        guard authorization == "Bearer \(token)" else { return Self.json(["ok": false, "error": "invalid_auth"], status: .unauthorized) }
        switch fault {
        case .rateLimited(let seconds):
            return SimulatedAnswers.rateLimited(retryAfter: seconds)
        case .status(let code):
            return Response(status: .init(code: code))
        case .error(let code):
            return Self.json(["ok": false, "error": .string(code)])
        case .pass, nil:
            return Self.json(answer(query))
        }
    }

    func answer(_ query: [String: String]) -> JSONValue {
        var numbers: [String: Int64] = [:]
        for name in ["oldest", "latest", "limit"] {
            guard let text = query[name] else { continue }
            guard let value = Int64(text) else { return ["ok": false, "error": "invalid_arguments"] }
            numbers[name] = value
        }
        let oldest = numbers["oldest"]
        let latest = numbers["latest"]
        let limit = numbers["limit"] ?? Int64(Self.defaultLimit)
        guard (1...9_999).contains(limit) else { return ["ok": false, "error": "invalid_arguments"] }
        let actions = query["action"].map { Set($0.split(separator: ",").map { String($0) }) }

        var matching = Self.ordered(state.current.entries).filter { stored in
            if stored.date != Int64.max {
                if let oldest, stored.date < oldest { return false }
                if let latest, stored.date > latest { return false }
            }
            if let actions, let action = stored.action, !actions.contains(action) { return false }
            return true
        }
        if let cursor = query["cursor"], !cursor.isEmpty {
            guard let position = Self.position(cursor) else { return ["ok": false, "error": "invalid_cursor"] }
            // Everything listed after the entry the previous page ended with, so entries added meanwhile
            // neither shift nor repeat a page.
            matching = matching.filter { ($0.date, $0.seq) < (position.date, position.seq) }
        }
        let page = Array(matching.prefix(Int(limit)))
        let nextCursor = matching.count > Int(limit) ? page.last.map(Self.cursor) ?? "" : ""
        return [
            "ok": true,
            "entries": .array(page.map(\.json)),
            "response_metadata": ["next_cursor": .string(nextCursor)],
        ]
    }

    /// Newest first; among entries of the same second, the one added last first.
    static func ordered(_ entries: [Stored]) -> [Stored] {
        entries.sorted { ($0.date, $0.seq) > ($1.date, $1.seq) }
    }

    /// An opaque cursor, base64 like Slack's (its padding `=` must survive the query string).
    static func cursor(_ stored: Stored) -> String {
        Data("after:\(stored.date):\(stored.seq)".utf8).base64EncodedString()
    }

    static func position(_ cursor: String) -> (date: Int64, seq: Int)? {
        guard let data = Data(base64Encoded: cursor) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: ":")
        guard parts.count == 3, parts[0] == "after", let date = Int64(parts[1]), let seq = Int(parts[2]) else { return nil }
        return (date, seq)
    }

    static func json(_ value: JSONValue, status: HTTPTypes.HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: value.encoded())))
    }

    /// The simulator as a runnable application on loopback.
    public func application(port: Int = 0, onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        Application(
            router: router(), configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "audit-logs-simulator", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}
