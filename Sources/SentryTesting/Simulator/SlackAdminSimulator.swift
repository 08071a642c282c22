import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SentryCore

/// A local stand-in for Slack's SCIM API (1.1 under `/scim/v1`, 2.0 under `/scim/v2`) and
/// `admin.users.session.reset`, answering in the shapes of the SCIM samples. Records every request it gets.
public final class SlackAdminSimulator: Sendable {
    /// A request as the simulator saw it.
    public struct Recorded: Sendable, Equatable {
        public var httpMethod: String
        public var path: String
        public var authorization: String?
        public var contentType: String?
        /// The raw body, so tests can compare it byte for byte.
        public var body: String
        public var json: JSONValue? { JSONValue.parse(Array(body.utf8)) }
    }

    /// A Slack user behind the SCIM API.
    public struct User: Sendable, Equatable {
        public var id: String
        public var userName: String
        public var displayName: String
        public var email: String
        public var active: Bool
        /// `roles[].value`; `primary_owner` is refused deactivation.
        public var roles: [String]
        /// Bot and app users are refused deactivation; their address is at slack-bots.com, as Slack lists them.
        public var isBot: Bool

        public init(
            id: String, userName: String, displayName: String = "", email: String? = nil, active: Bool = true,
            roles: [String] = [], isBot: Bool = false
        ) {
            self.id = id
            self.userName = userName
            self.displayName = displayName
            self.email = email ?? "\(userName)@\(isBot ? "slack-bots.com" : "example.com")"
            self.active = active
            self.roles = roles
            self.isBot = isBot
        }
    }

    public enum Fault: Sendable, Equatable {
        /// HTTP 429 with Retry-After (seconds).
        case rateLimited(retryAfter: Int)
        /// An HTTP status with no body, before any work.
        case status(Int)
        /// SCIM: 400 with this error description; Web API: `ok: false` with this code.
        case error(String)
        /// Does the work, then answers 500: the caller cannot know it succeeded.
        case lostAnswer
    }

    public static let activeUserID = "W0ACTIVE01"
    public static let inactiveUserID = "W0INACTIV1"
    public static let primaryOwnerID = "W0OWNER001"
    public static let botUserID = "W0BOTUSER1"

    /// One user of each kind a containment meets.
    public static let defaultUsers: [User] = [
        User(id: activeUserID, userName: "spengler", displayName: "Egon Spengler"),
        User(id: inactiveUserID, userName: "stantz", displayName: "Ray Stantz", active: false),
        User(id: primaryOwnerID, userName: "venkman", displayName: "Peter Venkman", roles: ["primary_owner", "owner"]),
        User(id: botUserID, userName: "deploy-bot", isBot: true),
    ]

    struct InjectedFault {
        var method: String?
        var path: String
        var fault: Fault
    }

    struct State {
        var requests: [Recorded] = []
        var users: [String: User] = [:]
        var faults: [InjectedFault] = []
        var sessionResets: [String: Int] = [:]
    }

    public let token: String
    private let state: Locked<State>

    public init(token: String, users: [User] = SlackAdminSimulator.defaultUsers) {
        self.token = token
        var initial = State()
        for user in users { initial.users[user.id] = user }
        state = Locked(initial)
    }

    // MARK: Observing and steering

    public var requests: [Recorded] { state.current.requests }

    public func requests(method: String, path: String? = nil) -> [Recorded] {
        requests.filter { $0.httpMethod == method && (path == nil || $0.path == path) }
    }

    public func user(_ id: String) -> User? { state.current.users[id] }

    /// The user's `active` flag; nil for an unknown user.
    public func isActive(_ id: String) -> Bool? { state.current.users[id]?.active }

    public func add(_ user: User) {
        state.withLock { $0.users[user.id] = user }
    }

    /// How many times `admin.users.session.reset` succeeded for a user.
    public func sessionResets(for id: String) -> Int { state.current.sessionResets[id, default: 0] }

    /// Queues faults answered to the next requests on `path` (`/scim/v2/Users/W1`, `/api/admin.users.session.reset`),
    /// in order; with a method, only requests of that method take them.
    public func inject(_ faults: [Fault], method: String? = nil, path: String) {
        state.withLock { state in
            state.faults += faults.map { InjectedFault(method: method, path: path, fault: $0) }
        }
    }

    // MARK: HTTP

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        for method in [HTTPRequest.Method.get, .delete, .patch] {
            router.on("/scim/:version/Users/:id", method: method) { request, context in
                try await self.handleSCIM(
                    request, version: context.parameters.get("version") ?? "", userID: context.parameters.get("id") ?? "")
            }
        }
        router.post("/api/:method") { request, context in
            try await self.handleAPI(request, method: context.parameters.get("method") ?? "")
        }
        return router
    }

    private func record(_ request: inout Request) async throws -> String {
        let buffer = try await request.collectBody(upTo: 1 << 20)
        let body = String(decoding: buffer.readableBytesView, as: UTF8.self)
        let recorded = Recorded(
            httpMethod: request.method.rawValue, path: request.uri.path, authorization: request.headers[.authorization],
            contentType: request.headers[.contentType], body: body)
        state.withLock { $0.requests.append(recorded) }
        return body
    }

    private func nextFault(method: String, path: String) -> Fault? {
        state.withLock { state -> Fault? in
            guard let index = state.faults.firstIndex(where: { $0.path == path && ($0.method == nil || $0.method == method) })
            else { return nil }
            return state.faults.remove(at: index).fault
        }
    }

    // MARK: SCIM

    private enum Version: String {
        case v1, v2
    }

    func handleSCIM(_ request: Request, version versionName: String, userID: String) async throws -> Response {
        var request = request
        let body = try await record(&request)
        guard let version = Version(rawValue: versionName) else {
            return Self.scimError(404, "bad_endpoint")
        }
        guard request.headers[.authorization] == "Bearer \(token)" else {
            return Self.scimError(401, "invalid_authentication")
        }
        let method = request.method
        let fault = nextFault(method: method.rawValue, path: request.uri.path)
        switch fault {
        case .rateLimited(let seconds):
            return Response(
                status: .tooManyRequests, headers: [.retryAfter: "\(seconds)", .contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"Errors":{"description":"rate_limited","code":429}}"#)))
        case .status(let code):
            return Response(status: .init(code: code))
        case .error(let description):
            return Self.scimError(400, description)
        case .lostAnswer, nil:
            break
        }
        let response: Response
        switch method {
        case .get:
            guard let user = state.current.users[userID] else { return Self.scimError(404, "user_not_found") }
            response = Self.json(Self.resource(user, version), status: .ok)
        case .delete:
            response = deactivate(userID)
        case .patch:
            response = reactivate(userID, body: body, contentType: request.headers[.contentType], version: version)
        default:
            response = Self.scimError(405, "method_not_allowed")
        }
        if fault == .lostAnswer { return Response(status: .internalServerError) }
        return response
    }

    private func deactivate(_ userID: String) -> Response {
        state.withLock { state in
            guard var user = state.users[userID] else { return Self.scimError(404, "user_not_found") }
            if user.roles.contains("primary_owner") {
                return Self.scimError(403, "cannot_disable_primary_owner (user=\(userID))")
            }
            if user.isBot { return Self.scimError(400, "cannot_modify_bot_user (user=\(userID))") }
            user.active = false
            state.users[userID] = user
            return Response(status: .noContent)
        }
    }

    private func reactivate(_ userID: String, body: String, contentType: String?, version: Version) -> Response {
        let mediaType = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" || mediaType == "application/scim+json" else {
            return Self.scimError(400, "invalid_content_type")
        }
        guard let json = JSONValue.parse(Array(body.utf8)), let active = Self.requestedActive(json, version) else {
            return Self.scimError(400, "invalid_patch_body")
        }
        return state.withLock { state in
            guard var user = state.users[userID] else { return Self.scimError(404, "user_not_found") }
            user.active = active
            state.users[userID] = user
            return Self.json(Self.resource(user, version), status: .ok)
        }
    }

    /// The `active` value a PATCH asks for: 2.0 takes a PatchOp message, 1.1 a partial resource.
    private static func requestedActive(_ json: JSONValue, _ version: Version) -> Bool? {
        let schemas = json["schemas"]?.arrayValue?.compactMap(\.stringValue) ?? []
        switch version {
        case .v1:
            guard schemas.contains("urn:scim:schemas:core:1.0") else { return nil }
            return json["active"]?.boolValue
        case .v2:
            guard schemas.contains("urn:ietf:params:scim:api:messages:2.0:PatchOp"),
                let operations = json["Operations"]?.arrayValue, operations.count == 1,
                let operation = operations.first,
                operation["op"]?.stringValue?.lowercased() == "replace"
            else { return nil }
            if operation["path"]?.stringValue == "active" { return operation["value"]?.boolValue }
            if operation["path"] == nil { return operation["value"]?["active"]?.boolValue }
            return nil
        }
    }

    /// A user in the shape of `v1_user.all_fields.shape.json` / `v2_user.all_fields.shape.json`.
    private static func resource(_ user: User, _ version: Version) -> JSONValue {
        let names = user.displayName.split(separator: " ", maxSplits: 1).map(String.init)
        var object: [String: JSONValue] = [
            "id": .string(user.id),
            "externalId": "",
            "meta": [
                "created": "2020-08-13T04:15:35-07:00",
                "location": .string("https://api.slack.com/scim/\(version.rawValue)/Users/\(user.id)"),
            ],
            "userName": .string(user.userName),
            "nickName": .string(user.userName),
            "name": ["givenName": .string(names.first ?? ""), "familyName": .string(names.count > 1 ? names[1] : "")],
            "displayName": .string(user.displayName),
            "profileUrl": .string("https://example.enterprise.slack.com/team/\(user.userName)"),
            "title": "",
            "timezone": "America/Los_Angeles",
            "active": .bool(user.active),
            "emails": [["value": .string(user.email), "primary": true]],
            "photos": [],
            "groups": [],
        ]
        if !user.roles.isEmpty {
            object["roles"] = .array(
                user.roles.enumerated().map { index, role in
                    ["value": .string(role), "primary": .bool(index == 0)]
                })
        }
        switch version {
        case .v1:
            object["schemas"] = ["urn:scim:schemas:core:1.0", "urn:scim:schemas:extension:enterprise:1.0"]
            object["urn:scim:schemas:extension:enterprise:1.0"] = ["manager": [:]]
        case .v2:
            object["schemas"] = [
                "urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            ]
            object["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"] = ["manager": [:]]
        }
        return .object(object)
    }

    /// Slack's SCIM error shape, the same in both versions.
    static func scimError(_ status: Int, _ description: String) -> Response {
        json(["Errors": ["description": .string(description), "code": .number(Double(status))]], status: .init(code: status))
    }

    // MARK: Web API

    func handleAPI(_ request: Request, method: String) async throws -> Response {
        var request = request
        let body = try await record(&request)
        guard let authorization = request.headers[.authorization] else {
            return Self.json(["ok": false, "error": "not_authed"], status: .ok)
        }
        guard authorization == "Bearer \(token)" else { return Self.json(["ok": false, "error": "invalid_auth"], status: .ok) }
        guard method == "admin.users.session.reset" else {
            return Self.json(["ok": false, "error": "unknown_method"], status: .ok)
        }
        let fault = nextFault(method: "POST", path: request.uri.path)
        switch fault {
        case .rateLimited(let seconds):
            return SimulatedAnswers.rateLimited(retryAfter: seconds)
        case .status(let code):
            return Response(status: .init(code: code))
        case .error(let code):
            return Self.json(["ok": false, "error": .string(code)], status: .ok)
        case .lostAnswer, nil:
            break
        }
        guard let userID = Self.argument("user_id", body: body, contentType: request.headers[.contentType]) else {
            return Self.json(["ok": false, "error": "invalid_arguments"], status: .ok)
        }
        let answer: JSONValue = state.withLock { state in
            guard state.users[userID] != nil else { return ["ok": false, "error": "user_not_found"] }
            state.sessionResets[userID, default: 0] += 1
            return ["ok": true]
        }
        if fault == .lostAnswer { return Response(status: .internalServerError) }
        return Self.json(answer, status: .ok)
    }

    /// An argument from a JSON or a form-encoded body; Slack takes both for this method.
    private static func argument(_ name: String, body: String, contentType: String?) -> String? {
        if contentType?.lowercased().hasPrefix("application/json") == true {
            return JSONValue.parse(Array(body.utf8))?[name]?.stringValue
        }
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if parts.first == name { return parts.count > 1 ? parts[1] : "" }
        }
        return nil
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: value.encoded())))
    }

    /// The simulator as a runnable application on loopback.
    public func application(port: Int = 0, onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        Application(
            router: router(), configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "slack-admin-simulator", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}
