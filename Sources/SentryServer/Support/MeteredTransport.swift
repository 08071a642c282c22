import Foundation
import SentryConnectors
import SentryCore

/// Counts and times every outbound call by API and status for `/metrics`, then passes it on unchanged.
public struct MeteredTransport: HTTPTransport {
    let base: any HTTPTransport
    let metrics: ServerMetrics
    /// Base URL → API label, longest base first so `…/api` never shadows a longer base on the same host.
    let apis: [(base: String, label: String)]

    public init(base: any HTTPTransport, metrics: ServerMetrics, apis: [(base: String, label: String)]) {
        self.base = base
        self.metrics = metrics
        self.apis = apis.map { ($0.base.withoutTrailingSlashes, $0.label) }.sorted { $0.base.count > $1.base.count }
    }

    /// The APIs the configuration talks to: Slack's Web API (labelled per method), SCIM, Audit Logs and Meraki.
    public init(base: any HTTPTransport, metrics: ServerMetrics, configuration: ServerConfiguration) {
        self.init(
            base: base, metrics: metrics,
            apis: [
                (configuration.slackAPIURL, "slack"),
                (configuration.slackSCIMURL, "slack_scim"),
                (configuration.slackAuditURL, "slack_audit"),
                (configuration.merakiAPIURL, "meraki"),
            ])
    }

    public func send(_ request: SentryConnectors.HTTPRequest) async throws -> SentryConnectors.HTTPResponse {
        let api = label(for: request.url)
        let started = ContinuousClock.now
        do {
            let response = try await base.send(request)
            metrics.upstream(api: api, status: String(response.status), duration: started.duration(to: .now))
            return response
        } catch {
            metrics.upstream(api: api, status: Self.status(of: error), duration: started.duration(to: .now))
            throw error
        }
    }

    /// `slack.chat.postMessage` for Web API methods (a bounded set), the bare label for the rest, whose paths
    /// carry ids; `other` for response_url posts and anything unconfigured.
    func label(for url: String) -> String {
        for (base, label) in apis where url.hasPrefix(base + "/") {
            guard label == "slack" else { return label }
            let method = url.dropFirst(base.count + 1).prefix { $0 != "?" && $0 != "/" }
            let plain = !method.isEmpty && method.count <= 64 && method.allSatisfy { $0.isASCII && ($0.isLetter || $0 == ".") }
            return plain ? "slack.\(method)" : "slack"
        }
        return "other"
    }

    static func status(of error: any Error) -> String {
        switch error as? TransportError {
        case .timedOut: "timeout"
        case .connectionFailed: "connection_failed"
        case .invalidURL: "invalid_url"
        case .failed: "transport_error"
        case .shutDown: "shut_down"
        case nil: error is CancellationError ? "cancelled" : "error"
        }
    }
}
