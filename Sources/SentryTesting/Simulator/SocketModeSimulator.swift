import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import SentryCore

/// A loopback stand-in for Slack's Socket Mode: `apps.connections.open` mints single-use `ws://` URLs, each
/// connection gets a `hello`, and a test sends envelopes and `disconnect` frames and reads the acks back. Frames
/// have the shapes of Slack's Socket Mode documentation.
public final class SocketModeSimulator: Sendable {
    /// An ack as the simulator received it.
    public struct Ack: Sendable, Equatable {
        public var envelopeID: String
        public var payload: JSONValue?
        public var connection: Int
        public var bytes: Int
        /// From the envelope's send to its ack.
        public var latency: Duration
    }

    struct Pending {
        var frame: String
        var connection: Int
        var sent: ContinuousClock.Instant
    }

    struct State {
        var port = 0
        var tickets: Set<String> = []
        var openFaults: [String] = []
        var openRateLimits: [RateLimit] = []
        var openCalls = 0
        var nextID = 0
        var nextConnection = 0
        var connections: [Int: WebSocketOutboundWriter] = [:]
        var everConnected: [Int] = []
        var acks: [Ack] = []
        var pending: [String: Pending] = [:]
        var freeze = 0
        var otherConnections = 0
        var unknownTickets = 0
        var ackWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    /// A rate-limited `apps.connections.open` answer: `Retry-After` seconds, as HTTP 429 or as Slack's
    /// `ok: false, error: ratelimited` with HTTP 200.
    public struct RateLimit: Sendable, Equatable {
        public var retryAfter: Int
        public var status: Int
        public init(retryAfter: Int, status: Int = 429) {
            self.retryAfter = retryAfter
            self.status = status
        }
    }

    /// An `apps.connections.open` answer: its HTTP status, `Retry-After` if any, and body.
    public struct OpenAnswer: Sendable {
        public var status: Int
        public var retryAfter: Int?
        public var body: JSONValue
    }

    public let appToken: String
    let state = Locked(State())

    public init(appToken: String = "xapp-1-A0SENTRY-1-simulated") {
        self.appToken = appToken
    }

    // MARK: Observing and steering

    /// `apps.connections.open` calls, answered or refused.
    public var openCalls: Int { state.current.openCalls }
    /// Connections open now, oldest first.
    public var openConnections: [Int] { state.current.connections.keys.sorted() }
    /// Every connection that was ever upgraded, in order.
    public var connectionsMade: [Int] { state.current.everConnected }
    public var acks: [Ack] { state.current.acks }
    public var ackCount: Int { state.withLock { $0.acks.count } }
    /// Envelopes sent and not acked.
    public var unacked: [String] { state.current.pending.keys.sorted() }
    /// Upgrades refused because the URL was never minted or was already used.
    public var refusedURLs: Int { state.current.unknownTickets }

    public func ack(for envelopeID: String) -> Ack? { acks.first { $0.envelopeID == envelopeID } }

    /// Error codes answered to the next `apps.connections.open` calls, in order (e.g. `invalid_auth`).
    public func failNextOpens(_ codes: [String]) { state.withLock { $0.openFaults += codes } }
    /// The next `apps.connections.open` calls (after the error codes of `failNextOpens`) are rate limited, in order.
    public func rateLimitNextOpens(_ limits: [RateLimit]) { state.withLock { $0.openRateLimits += limits } }
    /// The next `count` connections say hello, then never read again: pings go unanswered (a half-open link).
    public func freezeNextConnections(_ count: Int = 1) { state.withLock { $0.freeze += count } }
    /// Sockets of another process, counted in `hello.num_connections`.
    public func pretendOtherConnections(_ count: Int) { state.withLock { $0.otherConnections = count } }

    /// Returns once at least `count` acks have arrived (the benchmark waits here instead of polling).
    public func waitForAcks(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.acks.count >= count { return true }
                state.ackWaiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    @discardableResult
    public func waitUntil(timeout: Duration = .seconds(10), _ condition: (SocketModeSimulator) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition(self)
    }

    // MARK: apps.connections.open

    /// The Web API answer for a Bearer header: a fresh URL, or Slack's error (a rate limit with its Retry-After).
    public func openAnswer(authorization: String?) -> OpenAnswer {
        state.withLock { state -> OpenAnswer in
            state.openCalls += 1
            guard authorization == "Bearer \(appToken)" else { return OpenAnswer(status: 200, body: ["ok": false, "error": "invalid_auth"]) }
            if !state.openFaults.isEmpty {
                return OpenAnswer(status: 200, body: ["ok": false, "error": .string(state.openFaults.removeFirst())])
            }
            if !state.openRateLimits.isEmpty {
                let limit = state.openRateLimits.removeFirst()
                return OpenAnswer(status: limit.status, retryAfter: limit.retryAfter, body: ["ok": false, "error": "ratelimited"])
            }
            state.nextID += 1
            let ticket = "ticket-\(state.nextID)"
            state.tickets.insert(ticket)
            return OpenAnswer(status: 200, body: ["ok": true, "url": .string("ws://127.0.0.1:\(state.port)/link/?ticket=\(ticket)&app_id=A0SENTRY")])
        }
    }

    /// `openAnswer` as an HTTP response.
    public func openResponse(authorization: String?) -> Response {
        let answer = openAnswer(authorization: authorization)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter = answer.retryAfter { headers[.retryAfter] = "\(retryAfter)" }
        return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body.encoded())))
    }

    // MARK: Sending

    /// Sends an envelope on a connection (the newest open one by default); returns its envelope id.
    @discardableResult
    public func send(
        _ type: String, payload: JSONValue, acceptsResponsePayload: Bool, retryAttempt: Int? = nil, envelopeID: String? = nil,
        connection: Int? = nil
    ) async throws -> String {
        let id = envelopeID ?? UUID().uuidString.lowercased()
        var object: [String: JSONValue] = [
            "envelope_id": .string(id), "type": .string(type), "payload": payload, "accepts_response_payload": .bool(acceptsResponsePayload),
        ]
        if let retryAttempt {
            object["retry_attempt"] = .number(Double(retryAttempt))
            object["retry_reason"] = .string(retryAttempt > 0 ? "timeout" : "")
        }
        let frame = JSONValue.object(object).encoded()
        let writer = try state.withLock { state -> WebSocketOutboundWriter in
            guard let target = connection ?? state.connections.keys.max(), let writer = state.connections[target] else {
                throw SimulatorError.noConnection
            }
            state.pending[id] = Pending(frame: frame, connection: target, sent: .now)
            return writer
        }
        try await writer.write(.text(frame))
        return id
    }

    /// Sends `disconnect` with a reason (`warning`, `refresh_requested`, `link_disabled`, …) on a connection.
    public func disconnect(_ reason: String, connection: Int) async throws {
        guard let writer = state.withLock({ $0.connections[connection] }) else { throw SimulatorError.noConnection }
        try await writer.write(
            .text(JSONValue.object(["type": "disconnect", "reason": .string(reason), "debug_info": ["host": "applink-simulated"]]).encoded()))
        if reason == "link_disabled" { try await writer.close(.normalClosure, reason: nil) }
    }

    /// Closes a connection from Slack's side.
    public func close(connection: Int) async throws {
        guard let writer = state.withLock({ $0.connections[connection] }) else { throw SimulatorError.noConnection }
        try await writer.close(.goingAway, reason: "simulated close")
    }

    /// Sends every unacked envelope again (as Slack does after a missed ack), on the newest open connection.
    public func redeliverUnacked() async throws {
        let frames = state.withLock { state in state.pending.map { ($0.key, $0.value.frame) } }
        for (_, frame) in frames {
            guard let writer = state.withLock({ state in state.connections.keys.max().flatMap { state.connections[$0] } }) else {
                throw SimulatorError.noConnection
            }
            try await writer.write(.text(frame))
        }
    }

    public enum SimulatorError: Error { case noConnection }

    // MARK: The server

    func upgrade(_ request: HTTPTypes.HTTPRequest) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let path = request.path ?? ""
        let ticket = path.split(separator: "ticket=").dropFirst().first.map { String($0.prefix { $0 != "&" }) } ?? ""
        // A URL works once, as Slack's do.
        let valid = state.withLock { state -> Bool in
            guard path.hasPrefix("/link"), state.tickets.remove(ticket) != nil else {
                state.unknownTickets += 1
                return false
            }
            return true
        }
        guard valid else { return .dontUpgrade }
        return .upgrade([:]) { inbound, outbound, _ in try await self.serve(inbound: inbound, outbound: outbound) }
    }

    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let (id, frozen, count) = state.withLock { state -> (Int, Bool, Int) in
            state.nextConnection += 1
            state.connections[state.nextConnection] = outbound
            state.everConnected.append(state.nextConnection)
            let frozen = state.freeze > 0
            if frozen { state.freeze -= 1 }
            return (state.nextConnection, frozen, state.connections.count + state.otherConnections)
        }
        defer { _ = state.withLock { $0.connections.removeValue(forKey: id) } }
        let hello: JSONValue = [
            "type": "hello", "num_connections": .number(Double(count)),
            "debug_info": ["host": "applink-simulated", "build_number": 1, "approximate_connection_time": 18_060],
            "connection_info": ["app_id": "A0SENTRY"],
        ]
        try await outbound.write(.text(hello.encoded()))
        if frozen {
            // Reading nothing means answering no ping; the client must give up on this socket.
            state.withLock { _ = $0.connections.removeValue(forKey: id) }
            try? await Task.sleep(for: .seconds(30))
            return
        }
        for try await message in inbound.messages(maxSize: 1 << 22) {
            guard case .text(let text) = message, let json = JSONValue.parse(Array(text.utf8)), let envelopeID = json["envelope_id"]?.stringValue
            else { continue }
            let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                let sent = state.pending.removeValue(forKey: envelopeID)?.sent ?? .now
                state.acks.append(
                    Ack(
                        envelopeID: envelopeID, payload: json["payload"], connection: id, bytes: text.utf8.count, latency: .now - sent))
                guard !state.ackWaiters.isEmpty else { return [] }
                let count = state.acks.count
                let ready = state.ackWaiters.filter { $0.count <= count }.map(\.continuation)
                state.ackWaiters.removeAll { $0.count <= count }
                return ready
            }
            for continuation in ready { continuation.resume() }
        }
    }

    /// The simulator on loopback: `POST /api/apps.connections.open` and the WebSocket upgrade on `/link`.
    public func application(port: Int = 0, onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        router.post("/api/apps.connections.open") { request, _ in self.openResponse(authorization: request.headers[.authorization]) }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: .init(ws: .init(maxFrameSize: 1 << 22, autoPing: .disabled))) { request, _, _ in
                self.upgrade(request)
            },
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                self.state.withLock { $0.port = bound }
                await onRunning(bound)
            },
            logger: Logger(label: "socket-mode-simulator", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}
