import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SentryCore
import SentryStore

/// The outermost middleware of every counted route: counts the request under its endpoint label, answers a
/// body the client broke with a 4xx (counted, logged at debug), and turns unexpected errors into a logged 500
/// with no details. Every log line written while answering carries `request.id`; the answer carries it as
/// `X-Request-Id`.
struct EndpointMiddleware: RouterMiddleware {
    typealias Context = SentryRequestContext
    static let requestID = HTTPField.Name("X-Request-Id")!

    /// The `endpoint` label of `sentry_http_requests_total` and `sentry_http_bodies_refused_total`.
    let endpoint: String
    let metrics: ServerMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        await answer { try await next(request, context) }
    }

    func answer(_ body: () async throws -> Response) async -> Response {
        let id = RequestID.make()
        let started = ContinuousClock.now
        var response = await RequestID.$current.withValue(id) { () async -> Response in
            let response: Response
            do {
                response = try await body()
            } catch let refused as RequestBodyError {
                metrics.bodyRefused(endpoint: endpoint, reason: refused.reason)
                logger.debug(
                    "request body refused", metadata: ["http.endpoint": "\(endpoint)", "reason": "\(refused.reason)", "error": "\(refused.message)"])
                var refusal = Response.text(refused.status, refused.message + "\n")
                if refused.closesConnection { refusal.headers[.connection] = "close" }
                response = refusal
            } catch StoreError.unavailable(let reason) {
                // Nothing was stored: the sender should try again, which Slack and the engines do on a 5xx.
                logger.error(
                    "database unreachable; answering 503 until it is back", metadata: ["http.endpoint": "\(endpoint)", "error": "\(reason)"])
                var refusal = Response.text(.serviceUnavailable, "the database is unreachable; nothing was stored, try again (request \(id))\n")
                refusal.headers[.retryAfter] = "5"
                response = refusal
            } catch {
                logger.error("request failed", metadata: ["http.endpoint": "\(endpoint)", "error": "\(error)"])
                response = Response.text(.internalServerError, "internal error; nothing was lost, try again (request \(id))\n")
            }
            logger.debug(
                "request",
                metadata: [
                    "http.endpoint": "\(endpoint)", "http.status": "\(response.status.code)",
                    "duration_ms": "\((ContinuousClock.now - started).inSeconds * 1000)",
                ])
            return response
        }
        response.headers[Self.requestID] = id
        metrics.request(endpoint: endpoint, status: Int(response.status.code))
        return response
    }
}

extension RouterMethods<SentryRequestContext> {
    /// A group at `path` whose routes are counted as `endpoint`, with `EndpointMiddleware` outermost.
    func counted(_ path: RouterPath, as endpoint: String, _ context: SentryContext) -> RouterGroup<SentryRequestContext> {
        group(path).add(middleware: EndpointMiddleware(endpoint: endpoint, metrics: context.metrics, logger: context.logger))
    }
}
