import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SentryCore

/// A Slack request's body whose `X-Slack-Signature` held; only `SlackSignatureMiddleware` makes one.
public struct VerifiedSlackBody: Sendable {
    public let bytes: [UInt8]

    fileprivate init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }
}

/// Size, then signature (DESIGN.md §4.3): a request that passes goes on with its verified body on the context
/// and none left on the request; any other gets its 401 (or 413) here, before anything parses it.
struct SlackSignatureMiddleware: RouterMiddleware {
    typealias Context = SentryRequestContext
    static let timestamp = HTTPField.Name("X-Slack-Request-Timestamp")!
    static let signature = HTTPField.Name("X-Slack-Signature")!
    static let sslCheckMarker = Array("ssl_check=".utf8)

    /// nil without `SLACK_SIGNING_SECRET` (allowed only over Socket Mode, where these routes are not mounted):
    /// then every request is refused.
    let verifier: RequestVerifier?
    let clock: any SentryClock
    let metrics: ServerMetrics
    let logger: Logger
    /// Slash commands only: Slack's certificate checks (`ssl_check=1`) are not guaranteed to be signed, so they
    /// are answered with a bare 200 before verification, as Slack's SDKs do. Only that exact field value counts,
    /// and nothing in such a request is ever processed: it never reaches the handler.
    let answersSSLChecks: Bool

    init(secret: String?, clock: any SentryClock, metrics: ServerMetrics, logger: Logger, answersSSLChecks: Bool = false) {
        self.verifier = secret.map { RequestVerifier(secret: $0) }
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
        self.answersSSLChecks = answersSSLChecks
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let body = try await request.limitedBody()
        if answersSSLChecks, Self.isSSLCheck(body) {
            return Response(status: .ok)
        }
        guard let verifier else { return .text(.unauthorized, "invalid request signature (no signing secret configured)\n") }
        let verdict = verifier.verify(
            timestamp: request.headers.value(Self.timestamp), signature: request.headers.value(Self.signature), body: body,
            now: Int64(clock.now().timeIntervalSince1970))
        if case .failure(let failure) = verdict {
            metrics.verificationFailed(reason: failure.rawValue)
            logger.notice("slack request refused", metadata: ["reason": "\(failure.rawValue)"])
            return .text(.unauthorized, "invalid request signature (\(failure.rawValue))\n")
        }
        var context = context
        context.verifiedSlackBody = VerifiedSlackBody(body)
        return try await next(request.withoutBody(), context)
    }

    static func isSSLCheck(_ body: [UInt8]) -> Bool {
        // Parsed only when a field is named so: every slash command passes through here.
        guard body.count < 1_024, namesSSLCheck(body), let form = try? FormBody.parse(body) else { return false }
        return form["ssl_check"] == "1"
    }

    /// Whether a field of the form begins with `ssl_check=` (at the start of the body or after an `&`).
    static func namesSSLCheck(_ body: [UInt8]) -> Bool {
        body.withUnsafeBufferPointer { bytes in
            sslCheckMarker.withUnsafeBufferPointer { marker in
                var start = 0
                while start + marker.count <= bytes.count {
                    if UnsafeBufferPointer(rebasing: bytes[start..<(start + marker.count)]).elementsEqual(marker) { return true }
                    guard let next = bytes[start...].firstIndex(of: UInt8(ascii: "&")) else { return false }
                    start = next + 1
                }
                return false
            }
        }
    }
}
