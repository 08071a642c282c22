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
/// (DESIGN.md §4.4); on an engine's hook, what that engine can send (`Engine.credentials`): the bearer token,
/// Grafana's signature, or `?token=`. A request that passes goes on with its body on the context and none left
/// on the request; any other gets its 401 here, before anything parses the body. With neither setting the
/// hooks do not exist (404).
struct WebhookAuthenticationMiddleware: RouterMiddleware {
    typealias Context = SentryRequestContext
    static let timestamp = HTTPField.Name("X-Sentry-Request-Timestamp")!
    static let signature = HTTPField.Name("X-Sentry-Signature")!
    static let grafanaSignature = HTTPField.Name(GrafanaSignature.header)!
    static let grafanaTimestamp = HTTPField.Name(GrafanaSignature.timestampHeader)!

    let token: String?
    let verifier: RequestVerifier?
    let grafana: GrafanaSignature?
    /// nil on `/hooks/detections`.
    let engine: Engine?
    let clock: any SentryClock
    let metrics: ServerMetrics

    init(token: String?, secret: String?, engine: Engine? = nil, clock: any SentryClock, metrics: ServerMetrics) {
        self.token = token
        self.verifier = secret.map(RequestVerifier.init(secret:))
        self.grafana = secret.map(GrafanaSignature.init(secret:))
        self.engine = engine
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
        if let engine { return engineRefusal(request, body: body, engine: engine) }
        if let authorization = request.headers.value(.authorization) {
            return bearerRefusal(authorization)
        }
        if let verifier {
            let verdict = verifier.verify(
                timestamp: request.headers.value(Self.timestamp), signature: request.headers.value(Self.signature), body: body,
                now: Int64(clock.now().timeIntervalSince1970))
            if case .failure(let failure) = verdict { return failure.rawValue }
            return nil
        }
        return "missing Authorization: Bearer token"
    }

    func bearerRefusal(_ authorization: String) -> String? {
        guard token != nil else { return "bearer tokens are not enabled (SENTRY_WEBHOOK_TOKEN unset)" }
        guard authorization.hasPrefix("Bearer ") else { return "Authorization must be 'Bearer <token>'" }
        return tokenMatches(authorization.dropFirst("Bearer ".count)) ? nil : "bad token"
    }

    func tokenMatches(_ given: Substring) -> Bool {
        guard let token else { return false }
        // Hash both sides so the comparison takes the same time whatever the lengths.
        return Crypto.constantTimeEqual(Crypto.sha256(Array(given.utf8)), Crypto.sha256(Array(token.utf8)))
    }

    /// An engine's hook: every credential the request presents is tried, and one that holds lets it in (Grafana
    /// may send basic auth beside its signature). The reason given is the first one's.
    func engineRefusal(_ request: Request, body: [UInt8], engine: Engine) -> String? {
        var reasons: [String] = []
        if let authorization = request.headers.value(.authorization) {
            guard let reason = bearerRefusal(authorization) else { return nil }
            reasons.append(reason)
        }
        if engine.credentials.contains(.grafanaSignature), let signature = request.headers[Self.grafanaSignature] {
            if let grafana {
                let failure = grafana.verify(
                    signature: signature, timestamp: request.headers[Self.grafanaTimestamp], body: body, now: Int64(clock.now().timeIntervalSince1970)
                )
                guard let failure else { return nil }
                reasons.append(failure.rawValue)
            } else {
                reasons.append("signatures are not enabled (SENTRY_WEBHOOK_SECRET unset)")
            }
        }
        if let given = request.uri.queryParameters["token"] {
            guard engine.credentials.contains(.queryToken) else {
                reasons.append("?token= is not accepted on \(engine.hookPath); send Authorization: Bearer <token>")
                return reasons.first
            }
            if token == nil {
                reasons.append("query tokens are not enabled (SENTRY_WEBHOOK_TOKEN unset)")
            } else if tokenMatches(given.removingPercentEncoding.map { Substring($0) } ?? given) {
                return nil
            } else {
                reasons.append("bad token")
            }
        }
        if let first = reasons.first { return first }
        let accepted = EngineCredential.allCases.filter { engine.credentials.contains($0) }.map { credential in
            switch credential {
            case .bearer: "Authorization: Bearer <token>"
            case .queryToken: "?token=<token>"
            case .grafanaSignature: GrafanaSignature.header
            }
        }
        return "missing credentials: send \(accepted.joined(separator: " or "))"
    }
}
