import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

@testable import SentryServer

/// A body the client broke (bad chunking, cut short, a transfer coding we cannot read) is the client's error:
/// a 4xx, counted, logged at debug, and nothing of it is acted on.
@Suite struct ServerRequestBodyTests {
    enum Broken: String, CaseIterable, CustomTestStringConvertible {
        case badChunkSize, cutShortChunkedBody, gzipTransferEncoding, gzipThenChunked, contentLengthLargerThanBody

        var testDescription: String { rawValue }

        /// What `sentry_http_bodies_refused_total` counts it as, and the answer.
        var expected: (reason: String, status: Int) {
            switch self {
            case .badChunkSize: ("bad_chunk_size", 400)
            case .cutShortChunkedBody, .contentLengthLargerThanBody: ("truncated", 400)
            case .gzipTransferEncoding: ("bad_framing", 400)
            case .gzipThenChunked: ("unsupported_transfer_coding", 415)
            }
        }

        /// The client sends what it has, then half-closes: the server must see the end, not wait for more.
        var halfCloses: Bool { self == .cutShortChunkedBody || self == .contentLengthLargerThanBody }
    }

    /// A request to one endpoint that reads a body, correctly signed: sent intact, each stores something.
    struct Post {
        var path: String
        var endpoint: String
        var headers: [(String, String)]
        var body: [UInt8]
    }

    static func signedSlack(_ path: String, _ endpoint: String, body: String, contentType: String, clock: any SentryClock) -> Post {
        let timestamp = String(Int(clock.now().timeIntervalSince1970))
        let signature = RequestVerifier(secret: ServerHarness.signingSecret).sign(timestamp: timestamp, body: Array(body.utf8))
        return Post(
            path: path, endpoint: endpoint,
            headers: [("Content-Type", contentType), ("X-Slack-Request-Timestamp", timestamp), ("X-Slack-Signature", signature)],
            body: Array(body.utf8))
    }

    /// A block-ip command (a manual alert), an acknowledgement of `alertID`, an app mention (a queued answer) and a detection.
    static func posts(_ h: ServerHarness, alertID: String) -> [Post] {
        let command = FormBody.encode([
            ("command", "/sentry"), ("text", "block-ip 203.0.113.50"), ("user_id", ServerHarness.alice), ("channel_id", ServerHarness.channel),
            ("response_url", h.responseURL), ("trigger_id", "1.2.3"),
        ])
        let click = FormBody.encode([
            ("payload", LoopbackClient.clickPayload("ack", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL).encoded())
        ])
        let event: JSONValue = [
            "type": "event_callback", "event_id": "Ev0BODY",
            "event": ["type": "app_mention", "channel": .string(ServerHarness.channel), "text": "status"],
        ]
        return [
            signedSlack("/slack/commands", "slack_commands", body: command, contentType: "application/x-www-form-urlencoded", clock: h.clock),
            signedSlack("/slack/interactivity", "slack_interactivity", body: click, contentType: "application/x-www-form-urlencoded", clock: h.clock),
            signedSlack("/slack/events", "slack_events", body: event.encoded(), contentType: "application/json", clock: h.clock),
            Post(
                path: "/hooks/detections", endpoint: "hooks_detections",
                headers: [("Content-Type", "application/json"), ("Authorization", "Bearer \(ServerHarness.webhookToken)")],
                body: Array(ServerHarness.detection(id: "body-1", detection: "slack.max_daily_download").encoded().utf8)),
        ]
    }

    /// The bytes on the wire: intact (`nil`) or broken as `broken` says.
    static func wire(_ post: Post, _ broken: Broken?, port: Int) -> [UInt8] {
        var head = "POST \(post.path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        for (name, value) in post.headers { head += "\(name): \(value)\r\n" }
        let body = post.body
        let chunk = Array("\(String(body.count, radix: 16))\r\n".utf8) + body + Array("\r\n".utf8)
        switch broken {
        case nil:
            return Array("\(head)Content-Length: \(body.count)\r\n\r\n".utf8) + body
        case .badChunkSize:
            return Array("\(head)Transfer-Encoding: chunked\r\n\r\n".utf8) + chunk + Array("zz\r\n\r\n".utf8)
        case .cutShortChunkedBody:
            // The whole body in one chunk, but never the last (empty) chunk.
            return Array("\(head)Transfer-Encoding: chunked\r\n\r\n".utf8) + chunk
        case .gzipTransferEncoding:
            return Array("\(head)Transfer-Encoding: gzip\r\n\r\n".utf8) + body
        case .gzipThenChunked:
            return Array("\(head)Transfer-Encoding: gzip, chunked\r\n\r\n".utf8) + chunk + Array("0\r\n\r\n".utf8)
        case .contentLengthLargerThanBody:
            return Array("\(head)Content-Length: \(body.count + 10)\r\n\r\n".utf8) + body
        }
    }

    /// What a request could have left in the store.
    struct Snapshot: Equatable {
        var alerts: [String]
        var outbox: Int
        var audit: Int

        init(_ store: any AlertStore) async throws {
            alerts = try await store.alerts(statuses: AlertStatus.allCases, limit: 100).map { "\($0.id) \($0.status.rawValue)" }.sorted()
            outbox = try await store.outbox(alertID: nil).count
            audit = try await store.auditEntries(after: 0, limit: 10_000).count
        }
    }

    /// Sends the bytes on a connection of its own and reads the answer; the connection, to see whether it closes.
    static func exchange(_ bytes: [UInt8], port: Int, halfClose: Bool) async throws -> (answer: String, took: Duration, connection: RawConnection) {
        let connection = try #require(RawConnection(port: port, readTimeout: .seconds(5)))
        let started = ContinuousClock.now
        connection.write(bytes)
        if halfClose { connection.shutdownWrite() }
        let answer = await connection.answer()
        let took = ContinuousClock.now - started
        return (answer, took, connection)
    }

    @Test(arguments: Broken.allCases)
    func aBrokenBodyIsAClientErrorOnEveryEndpoint(_ broken: Broken) async throws {
        let log = RecordingLogLines()
        try await withHarness(logger: log.logger) { h in
            let (alertID, _) = try await h.postedAlert()
            let posts = Self.posts(h, alertID: alertID)
            let before = try await Snapshot(h.store)
            let (reason, status) = broken.expected
            for post in posts {
                let (answer, took, connection) = try await Self.exchange(
                    Self.wire(post, broken, port: h.sentryApp.port), port: h.sentryApp.port, halfClose: broken.halfCloses)
                #expect(RawConnection.status(of: answer) == status, "\(post.path): \(answer.prefix(200))")
                #expect(took < .seconds(3), "\(post.path) answered in \(took)")
                // Past broken framing nothing on the connection can be read as a request.
                if status == 400 {
                    #expect(answer.contains("\r\nConnection: close\r\n"), "\(post.path)")
                    #expect(await connection.closedByPeer(), "\(post.path)")
                }
                #expect(
                    h.metrics.value(ServerMetrics.Name.bodiesRefused, [#"endpoint="\#(post.endpoint)""#, #"reason="\#(reason)""#]) == 1,
                    "\(post.path)")
            }
            #expect(try await Snapshot(h.store) == before, "nothing of a broken body was acted on")
            // Lines are `LEVEL LABEL MESSAGE KEY=VALUE …`.
            let lines = log.lines
            #expect(!lines.contains { $0.hasPrefix("error ") || $0.hasPrefix("critical ") }, "\(lines.filter { $0.hasPrefix("error ") })")
            let refused = lines.filter { $0.contains(" request body refused ") }
            #expect(refused.count == posts.count, "\(refused)")
            #expect(refused.allSatisfy { $0.hasPrefix("debug ") && $0.contains(" reason=\(reason)") }, "\(refused)")

            // The same requests intact are accepted and stored: the checks above could fail.
            for post in posts {
                let (answer, _, _) = try await Self.exchange(Self.wire(post, nil, port: h.sentryApp.port), port: h.sentryApp.port, halfClose: false)
                #expect([200, 202].contains(RawConnection.status(of: answer)), "\(post.path): \(answer.prefix(200))")
            }
            #expect(await eventually { try await Snapshot(h.store).alerts.count == before.alerts.count + 2 })
            let after = try await Snapshot(h.store)
            #expect(after.outbox > before.outbox && after.audit > before.audit)
            #expect(after.alerts.contains("\(alertID) acknowledged"))
        }
    }

    @Test func anOversizeBodyIsCountedAsRefused() async throws {
        try await withHarness { h in
            let big = "text=" + String(repeating: "a", count: 70 * 1024)
            for (path, endpoint) in [("/slack/commands", "slack_commands"), ("/hooks/detections", "hooks_detections")] {
                let answer = try await h.client.send("POST", path, body: Array(big.utf8), headers: [HTTPHeader("Content-Type", "application/json")])
                #expect(answer.status == 413, "\(path)")
                #expect(h.metrics.value(ServerMetrics.Name.bodiesRefused, [#"endpoint="\#(endpoint)""#, #"reason="too_large""#]) == 1)
            }
        }
    }

    @Test func anUnexpectedErrorIsStillALoggedInternalError() async throws {
        struct Unexpected: Error {}
        let log = RecordingLogLines()
        try await withHarness(logger: log.logger) { h in
            let endpoint = EndpointMiddleware(endpoint: "hooks_detections", metrics: h.server.context.metrics, logger: h.server.context.logger)
            let response = await endpoint.answer { throw Unexpected() }
            #expect(response.status == .internalServerError)
            #expect(log.lines.contains { $0.hasPrefix("error ") && $0.contains(" request failed ") }, "\(log.lines)")
            #expect(h.metrics.value(ServerMetrics.Name.requests, [#"endpoint="hooks_detections""#, #"status="500""#]) == 1)
        }
    }
}
