import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SentryCore
import Testing

/// A scripted stand-in for Slack's Web API on a real loopback server: answers each path from a script and
/// records every request it receives.
final class FakeSlack: @unchecked Sendable {
    struct Call: Sendable {
        var method: String
        var path: String
        var query: [String: String]
        var headers: [String: String]
        var body: [UInt8]
        var json: JSONValue? { JSONValue.parse(body) }
    }

    struct Reply: Sendable {
        var status: Int = 200
        var retryAfter: String? = nil
        var contentType = "application/json"
        var body: String = #"{"ok":true}"#
        /// Hold the answer until `releaseHeldReplies()`, to outlast a client's timeout without sleeping.
        var held = false

        static func ok(_ body: String = #"{"ok":true}"#) -> Reply { Reply(body: body) }
        static func status(_ status: Int, _ body: String = "") -> Reply { Reply(status: status, body: body) }
        static let held = Reply(held: true)
    }

    private let lock = NSLock()
    private var script: [String: [Reply]]
    private var recorded: [Call] = []
    private var released = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Yields each request's path as it arrives.
    let arrivals: AsyncStream<String>
    private let arrivalsContinuation: AsyncStream<String>.Continuation

    /// `script` maps a path (`/api/chat.postMessage`) to its replies, used in order; the last one repeats.
    init(_ script: [String: [Reply]]) {
        self.script = script
        (arrivals, arrivalsContinuation) = AsyncStream.makeStream()
    }

    var calls: [Call] { lock.withLock { recorded } }

    func releaseHeldReplies() {
        let toResume = lock.withLock {
            released = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in toResume { waiter.resume() }
    }

    /// Runs `body` with the base URL of the server (`http://localhost:PORT/api`).
    func run(_ body: @Sendable @escaping (String) async throws -> Void) async throws {
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
final class RecordingSleep: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Duration] = []

    var durations: [Duration] { lock.withLock { recorded } }

    var sleep: @Sendable (Duration) async throws -> Void {
        { duration in self.lock.withLock { self.recorded.append(duration) } }
    }
}

/// A logger that drops everything, for the code under test.
let quietLogger: Logger = {
    var logger = Logger(label: "connectors-test")
    logger.logLevel = .critical
    return logger
}()

// Groups the outbound-HTTP suites, so `swift test --filter Connectors` selects them.
@Suite enum Connectors {}
