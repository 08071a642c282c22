import Foundation
import HTTPTypes
import Hummingbird
import SentryCore

/// A detection hook's body from an engine that proved itself; only `WebhookAuthenticationMiddleware` makes one.
public struct AuthenticatedWebhook: Sendable {
    public let body: [UInt8]

    fileprivate init(_ body: [UInt8]) {
        self.body = body
    }
}

/// `Authorization: Bearer <SENTRY_WEBHOOK_TOKEN>` or `X-Sentry-Signature` with `SENTRY_WEBHOOK_SECRET`
/// (DESIGN.md §4.4): a request that passes goes on with its body on the context and none left on the request;
/// any other gets its 401 here. With neither setting the hooks do not exist (404).
struct WebhookAuthenticationMiddleware: RouterMiddleware {
    typealias Context = SentryRequestContext
    static let timestamp = HTTPField.Name("X-Sentry-Request-Timestamp")!
    static let signature = HTTPField.Name("X-Sentry-Signature")!

    let token: String?
    let verifier: RequestVerifier?
    let clock: any SentryClock
    let metrics: ServerMetrics

    init(token: String?, secret: String?, clock: any SentryClock, metrics: ServerMetrics) {
        self.token = token
        self.verifier = secret.map(RequestVerifier.init(secret:))
        self.clock = clock
        self.metrics = metrics
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard verifier != nil || token != nil else {
            return .text(.notFound, "not found\n")
        }
        let body = try await request.limitedBody()
        if let failure = refusal(request, body: body) {
            metrics.verificationFailed(reason: "webhook_" + failure)
            return .json(.unauthorized, ["error": .string("unauthorized: \(failure)")])
        }
        var context = context
        context.authenticatedWebhook = AuthenticatedWebhook(body)
        return try await next(request.withoutBody(), context)
    }

    /// nil when authenticated; otherwise the reason (never the secret).
    func refusal(_ request: Request, body: [UInt8]) -> String? {
        if let authorization = request.headers[.authorization] {
            guard let token else { return "bearer tokens are not enabled (SENTRY_WEBHOOK_TOKEN unset)" }
            guard authorization.hasPrefix("Bearer ") else { return "Authorization must be 'Bearer <token>'" }
            let given = Array(authorization.dropFirst("Bearer ".count).utf8)
            // Hash both sides so the comparison takes the same time whatever the lengths.
            return Crypto.constantTimeEqual(Crypto.sha256(given), Crypto.sha256(Array(token.utf8))) ? nil : "bad token"
        }
        if let verifier {
            let verdict = verifier.verify(
                timestamp: request.headers[Self.timestamp], signature: request.headers[Self.signature], body: body,
                now: Int64(clock.now().timeIntervalSince1970))
            if case .failure(let failure) = verdict { return failure.rawValue }
            return nil
        }
        return "missing Authorization: Bearer token"
    }
}
