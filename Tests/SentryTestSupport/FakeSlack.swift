import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SentryCore
import Testing

/// A scripted stand-in for Slack's Web API on a real loopback server: answers each path from a script and
/// records every request it receives.
public final class FakeSlack: @unchecked Sendable {
    public struct Call: Sendable {
        public var method: String
        public var path: String
        public var query: [String: String]
        public var headers: [String: String]
        public var body: [UInt8]
        public var json: JSONValue? { JSONValue.parse(body) }
    }

    public struct Reply: Sendable {
        public var status: Int
        public var retryAfter: String?
        public var contentType: String
        public var body: String
        /// Hold the answer until `releaseHeldReplies()`, to outlast a client's timeout without sleeping.
        public var held: Bool

        public init(
            status: Int = 200, retryAfter: String? = nil, contentType: String = "application/json", body: String = #"{"ok":true}"#,
            held: Bool = false
        ) {
            self.status = status
            self.retryAfter = retryAfter
            self.contentType = contentType
            self.body = body
            self.held = held
        }

        public static func ok(_ body: String = #"{"ok":true}"#) -> Reply { Reply(body: body) }
        public static func status(_ status: Int, _ body: String = "") -> Reply { Reply(status: status, body: body) }
        public static let held = Reply(held: true)
    }

    private let lock = NSLock()
    private var script: [String: [Reply]]
    private var recorded: [Call] = []
    private var released = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Yields each request's path as it arrives.
    public let arrivals: AsyncStream<String>
    private let arrivalsContinuation: AsyncStream<String>.Continuation

    /// `script` maps a path (`/api/chat.postMessage`) to its replies, used in order; the last one repeats.
    public init(_ script: [String: [Reply]]) {
        self.script = script
        (arrivals, arrivalsContinuation) = AsyncStream.makeStream()
    }

    public var calls: [Call] { lock.withLock { recorded } }

    public func releaseHeldReplies() {
        let toResume = lock.withLock {
            released = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in toResume { waiter.resume() }
    }

    /// Runs `body` with the base URL of the server (`http://localhost:PORT/api`).
    public func run(_ body: @Sendable @escaping (String) async throws -> Void) async throws {
        let router = Router()
        for path in script.keys {
            for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
                router.on(RouterPath(path), method: method) { request, _ in try await self.answer(request) }
            }
        }
        var logger = Logger(label: "fake-slack")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            logger: logger
        )
        try await app.test(.live) { client in
            defer { self.releaseHeldReplies() }
            let port = try #require(client.port)
            try await body("http://localhost:\(port)/api")
        }
    }

    private func answer(_ request: Request) async throws -> Response {
        var request = request
        let bytes = Array(try await request.collectBody(upTo: 1 << 20).readableBytesView)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        var query: [String: String] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            query[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        let path = request.uri.path
        let call = Call(method: request.method.rawValue, path: path, query: query, headers: headers, body: bytes)
        let reply: Reply = lock.withLock {
            recorded.append(call)
            guard var replies = script[path], let first = replies.first else { return .status(404) }
            if replies.count > 1 { replies.removeFirst() }
            script[path] = replies
            return first
        }
        arrivalsContinuation.yield(path)
        if reply.held {
            await withCheckedContinuation { continuation in
                let resumeNow = lock.withLock {
                    if released { return true }
                    waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        var responseHeaders = HTTPFields()
        responseHeaders[.contentType] = reply.contentType
        if let retryAfter = reply.retryAfter { responseHeaders[.retryAfter] = retryAfter }
        return Response(
            status: .init(code: reply.status),
            headers: responseHeaders,
            body: .init(byteBuffer: ByteBuffer(string: reply.body))
        )
    }
}

/// Captures the waits a client asks for instead of waiting.
public final class RecordingSleep: @unchecked Sendable {
    public init() {}

    private let lock = NSLock()
    private var recorded: [Duration] = []

    public var durations: [Duration] { lock.withLock { recorded } }

    public var sleep: @Sendable (Duration) async throws -> Void {
        { duration in self.lock.withLock { self.recorded.append(duration) } }
    }
}

/// A logger that drops everything, for the code under test.
public let quietLogger: Logger = {
    var logger = Logger(label: "connectors-test")
    logger.logLevel = .critical
    return logger
}()
