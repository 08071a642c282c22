import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SentryCore
import SentryTesting
import Testing

@testable import SentryServer

/// The authentication middleware on its own, in front of a handler that records every call: a request that
/// does not prove itself never reaches the handler, and one that does reaches it with the checked bytes only.
@Suite struct ServerAuthenticationMiddlewareTests {
    static let secret = "test-signing-secret-not-real"
    static let token = "test-webhook-token-not-real"
    static let form = "command=%2Fsentry&text=help&user_id=U0ALICE"

    /// What the handler behind the middleware saw.
    final class Reached: @unchecked Sendable {
        private let lock = NSLock()
        private var bodies: [(context: [UInt8], request: [UInt8])] = []

        func record(context: [UInt8], request: inout Request) async throws {
            let left = Array(try await request.collectBody(upTo: 1 << 20).readableBytesView)
            lock.withLock { bodies.append((context, left)) }
        }

        var calls: [(context: [UInt8], request: [UInt8])] { lock.withLock { bodies } }
    }

    let clock = ManualClock()
    let metrics = ServerMetrics()
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func slackApp(_ reached: Reached, answersSSLChecks: Bool = false) -> some ApplicationProtocol {
        let router = Router(context: SentryRequestContext.self)
        router.group("slack")
            .add(middleware: EndpointMiddleware(endpoint: "test", metrics: metrics, logger: logger))
            .add(
                middleware: SlackSignatureMiddleware(
                    secret: Self.secret, clock: clock, metrics: metrics, logger: logger, answersSSLChecks: answersSSLChecks)
            )
            .group(context: SlackRequestContext.self)
            .post { request, context in
                var request = request
                try await reached.record(context: context.verifiedSlackBody.bytes, request: &request)
                return Response(status: .ok)
            }
        return Application(router: router)
    }

    func webhookApp(_ reached: Reached, token: String? = Self.token, secret: String? = nil) -> some ApplicationProtocol {
        let router = Router(context: SentryRequestContext.self)
        router.group("hook")
            .add(middleware: EndpointMiddleware(endpoint: "test", metrics: metrics, logger: logger))
            .add(middleware: WebhookAuthenticationMiddleware(token: token, secret: secret, clock: clock, metrics: metrics))
            .group(context: WebhookRequestContext.self)
            .post { request, context in
                var request = request
                try await reached.record(context: context.authenticatedWebhook.body, request: &request)
                return Response(status: .accepted)
            }
        return Application(router: router)
    }

    func slackHeaders(_ body: String, secret: String = Self.secret, age: Int = 0) -> HTTPFields {
        let timestamp = String(Int(clock.now().timeIntervalSince1970) - age)
        return [
            .contentType: "application/x-www-form-urlencoded",
            HTTPField.Name("X-Slack-Request-Timestamp")!: timestamp,
            HTTPField.Name("X-Slack-Signature")!: RequestVerifier(secret: secret).sign(timestamp: timestamp, body: Array(body.utf8)),
        ]
    }

    enum BadSlackRequest: CaseIterable { case unsigned, wrongSecret, replayedAfterTheWindow, bodyChangedAfterSigning }

    @Test(arguments: BadSlackRequest.allCases)
    func aSlackRequestWithoutAGoodSignatureNeverReachesTheHandler(_ kind: BadSlackRequest) async throws {
        let reached = Reached()
        var headers = slackHeaders(Self.form)
        var body = Self.form
        switch kind {
        case .unsigned:
            headers[HTTPField.Name("X-Slack-Signature")!] = nil
            headers[HTTPField.Name("X-Slack-Request-Timestamp")!] = nil
        case .wrongSecret: headers = slackHeaders(Self.form, secret: "another-secret")
        case .replayedAfterTheWindow: headers = slackHeaders(Self.form, age: 301)
        case .bodyChangedAfterSigning: body = Self.form.replacingOccurrences(of: "help", with: "alerts")
        }
        try await slackApp(reached).test(.router) { [headers, body] client in
            let answer = try await client.execute(uri: "/slack", method: .post, headers: headers, body: ByteBuffer(string: body))
            #expect(answer.status == .unauthorized)
            #expect(String(buffer: answer.body).hasPrefix("invalid request signature ("))
        }
        #expect(reached.calls.isEmpty)
    }

    @Test func aSignedSlackRequestReachesTheHandlerWithTheVerifiedBytesAndNoneLeftOnTheRequest() async throws {
        let reached = Reached()
        try await slackApp(reached).test(.router) { client in
            let answer = try await client.execute(
                uri: "/slack", method: .post, headers: slackHeaders(Self.form), body: ByteBuffer(string: Self.form))
            #expect(answer.status == .ok)
        }
        let call = try #require(reached.calls.first)
        #expect(reached.calls.count == 1)
        #expect(call.context == Array(Self.form.utf8))
        #expect(call.request.isEmpty)
    }

    @Test func anUnsignedCertificateCheckIsAnsweredWithoutReachingTheHandler() async throws {
        let check = "ssl_check=1&token=not-checked"
        for answersSSLChecks in [true, false] {
            let reached = Reached()
            try await slackApp(reached, answersSSLChecks: answersSSLChecks).test(.router) { client in
                let answer = try await client.execute(
                    uri: "/slack", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: check))
                // Where checks are not expected (interactivity, events) an unsigned one is just unsigned.
                #expect(answer.status == (answersSSLChecks ? .ok : .unauthorized))
            }
            #expect(reached.calls.isEmpty)
        }
    }

    @Test func anOversizeSlackBodyIsRefusedBeforeTheSignatureAndTheHandler() async throws {
        let reached = Reached()
        let big = "text=" + String(repeating: "a", count: 70 * 1024)
        try await slackApp(reached).test(.router) { client in
            let answer = try await client.execute(uri: "/slack", method: .post, headers: slackHeaders(big), body: ByteBuffer(string: big))
            #expect(answer.status == .contentTooLarge)
        }
        #expect(reached.calls.isEmpty)
        #expect(metrics.value(ServerMetrics.Name.bodiesRefused, [#"endpoint="test""#, #"reason="too_large""#]) == 1)
    }

    /// A Slack handler registered without the middleware cannot get its context: it fails closed.
    @Test func aSlackRouteWithoutTheMiddlewareNeverRunsItsHandler() async throws {
        let reached = Reached()
        let router = Router(context: SentryRequestContext.self)
        router.group("slack")
            .add(middleware: EndpointMiddleware(endpoint: "test", metrics: metrics, logger: logger))
            .group(context: SlackRequestContext.self)
            .post { request, context in
                var request = request
                try await reached.record(context: context.verifiedSlackBody.bytes, request: &request)
                return Response(status: .ok)
            }
        try await Application(router: router).test(.router) { client in
            let answer = try await client.execute(
                uri: "/slack", method: .post, headers: slackHeaders(Self.form), body: ByteBuffer(string: Self.form))
            #expect(answer.status == .internalServerError)
        }
        #expect(reached.calls.isEmpty)
    }

    enum BadWebhook: CaseIterable { case none, wrongToken, notBearer, signatureWithoutSecret }

    @Test(arguments: BadWebhook.allCases)
    func aWebhookThatDoesNotProveItselfNeverReachesTheHandler(_ kind: BadWebhook) async throws {
        let reached = Reached()
        var headers: HTTPFields = [.contentType: "application/json"]
        switch kind {
        case .none: break
        case .wrongToken: headers[.authorization] = "Bearer not-the-token"
        case .notBearer: headers[.authorization] = "Basic \(Self.token)"
        case .signatureWithoutSecret:
            headers[HTTPField.Name("X-Sentry-Request-Timestamp")!] = String(Int(clock.now().timeIntervalSince1970))
            headers[HTTPField.Name("X-Sentry-Signature")!] = "v0=00"
        }
        try await webhookApp(reached).test(.router) { [headers] client in
            let answer = try await client.execute(uri: "/hook", method: .post, headers: headers, body: ByteBuffer(string: "{}"))
            #expect(answer.status == .unauthorized)
            #expect(String(buffer: answer.body).contains("unauthorized: "))
        }
        #expect(reached.calls.isEmpty)
    }

    @Test func aWebhookWithTheTokenOrASignatureReachesTheHandlerWithItsBody() async throws {
        let body = #"{"id":"evt-1"}"#
        let secret = "test-webhook-secret-not-real"
        let timestamp = String(Int(clock.now().timeIntervalSince1970))
        let signed: HTTPFields = [
            HTTPField.Name("X-Sentry-Request-Timestamp")!: timestamp,
            HTTPField.Name("X-Sentry-Signature")!: RequestVerifier(secret: secret).sign(timestamp: timestamp, body: Array(body.utf8)),
        ]
        for headers in [[.authorization: "Bearer \(Self.token)"], signed] {
            let reached = Reached()
            try await webhookApp(reached, secret: secret).test(.router) { client in
                let answer = try await client.execute(uri: "/hook", method: .post, headers: headers, body: ByteBuffer(string: body))
                #expect(answer.status == .accepted)
            }
            #expect(reached.calls.map(\.context) == [Array(body.utf8)])
            #expect(reached.calls.map(\.request) == [[]])
        }
    }

    @Test func withNeitherTokenNorSecretTheHookIsNotFoundAndItsHandlerNeverRuns() async throws {
        let reached = Reached()
        try await webhookApp(reached, token: nil, secret: nil).test(.router) { client in
            let answer = try await client.execute(
                uri: "/hook", method: .post, headers: [.authorization: "Bearer \(Self.token)"], body: ByteBuffer(string: "{}"))
            #expect(answer.status == .notFound)
        }
        #expect(reached.calls.isEmpty)
    }
}
