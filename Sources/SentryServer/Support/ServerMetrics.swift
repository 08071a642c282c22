import Foundation
import SentryCore

/// Counters exposed at `/metrics` in the Prometheus text format. Every metric name is in this file.
public final class ServerMetrics: Sendable {
    public enum Name {
        public static let requests = "sentry_http_requests_total"
        public static let verificationFailures = "sentry_verification_failures_total"
        public static let effects = "sentry_effects_total"
        public static let alerts = "sentry_alerts"
        public static let outboxDepth = "sentry_outbox_pending"
    }

    private struct Key: Hashable {
        var name: String
        var labels: [String]
    }

    private let counters = Locked<[Key: Int]>([:])

    public init() {}

    public func request(endpoint: String, status: Int) {
        add(Name.requests, ["endpoint=\"\(endpoint)\"", "status=\"\(status)\""])
    }

    public func verificationFailed(reason: String) {
        add(Name.verificationFailures, ["reason=\"\(reason)\""])
    }

    public func effectFinished(_ kind: String, ok: Bool) {
        add(Name.effects, ["effect=\"\(kind)\"", "result=\"\(ok ? "ok" : "error")\""])
    }

    private func add(_ name: String, _ labels: [String]) {
        counters.withLock { $0[Key(name: name, labels: labels), default: 0] += 1 }
    }

    public func value(_ name: String, _ labels: [String]) -> Int {
        counters.withLock { $0[Key(name: name, labels: labels)] ?? 0 }
    }

    /// The exposition text; gauges that live in the store are passed in.
    public func render(alertsByStatus: [String: Int], outboxDepth: Int) -> String {
        var lines: [String] = []
        let snapshot = counters.current
        let byName = Dictionary(grouping: snapshot, by: { $0.key.name })
        let help: [String: String] = [
            Name.requests: "HTTP requests by endpoint and status",
            Name.verificationFailures: "Signature or token checks that failed, by reason",
            Name.effects: "Outbox effects executed, by kind and result",
        ]
        for name in [Name.requests, Name.verificationFailures, Name.effects] {
            lines.append("# HELP \(name) \(help[name] ?? "")")
            lines.append("# TYPE \(name) counter")
            for (key, count) in (byName[name] ?? []).sorted(by: { $0.key.labels.joined() < $1.key.labels.joined() }) {
                lines.append("\(name){\(key.labels.joined(separator: ","))} \(count)")
            }
        }
        lines.append("# HELP \(Name.alerts) Alerts by status")
        lines.append("# TYPE \(Name.alerts) gauge")
        for (status, count) in alertsByStatus.sorted(by: { $0.key < $1.key }) {
            lines.append("\(Name.alerts){status=\"\(status)\"} \(count)")
        }
        lines.append("# HELP \(Name.outboxDepth) Effects waiting in the outbox")
        lines.append("# TYPE \(Name.outboxDepth) gauge")
        lines.append("\(Name.outboxDepth) \(outboxDepth)")
        return lines.joined(separator: "\n") + "\n"
    }
}
