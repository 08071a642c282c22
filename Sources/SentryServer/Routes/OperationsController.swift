import Foundation
import Hummingbird
import NIOCore
import SentryCore
import SentryStore

/// `/healthz`, `/readyz` and `/metrics` (DESIGN.md §4.3). Liveness answers without touching anything and is
/// not counted; readiness and metrics are.
struct OperationsController: Sendable {
    let context: SentryContext

    var endpoints: RouteCollection<SentryRequestContext> {
        let routes = RouteCollection(context: SentryRequestContext.self)
        routes.get("healthz") { _, _ in Response.text(.ok, "ok\n") }
        routes.counted("readyz", as: "readyz", context).get { _, _ in try await self.ready() }
        routes.counted("metrics", as: "metrics", context).get { _, _ in try await self.metricsPage() }
        return routes
    }

    func ready() async throws -> Response {
        do {
            try await context.store.ping()
        } catch {
            return .text(.serviceUnavailable, "store unreachable\n")
        }
        guard !context.catalog.playbooks.isEmpty else { return .text(.serviceUnavailable, "no playbooks loaded\n") }
        if let stopped = context.socketMode?.stoppedReason { return .text(.serviceUnavailable, "Socket Mode stopped: \(stopped)\n") }
        return .text(.ok, "ready: \(context.catalog.playbooks.count) playbooks\n\(try await leaderLine())\n")
    }

    /// Who runs the pollers: this replica, another one (by name), or nobody yet.
    func leaderLine() async throws -> String {
        let status = context.leadership
        if status.leading { return "pollers: led by this replica (\(status.holder))" }
        guard let leader = try await (context.store as? any LeadershipStore)?.leader(LeaderElector.role, now: context.clock.now()) else {
            return "pollers: no leader yet (this replica is \(status.holder))"
        }
        return "pollers: led by \(leader) (this replica is \(status.holder))"
    }

    func metricsPage() async throws -> Response {
        let text = await context.metrics.render(store: try await context.store.gauges(), leadership: context.leadership)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
