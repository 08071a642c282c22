import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryDetect
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// From an entry appearing in the Audit Logs API to the alert posted in Slack: at most one poll interval + 2 s.
@Suite struct DetectLatencyTests {
    @Test func auditEntryToSlackAlertWithinOnePollInterval() async throws {
        let slack = SlackSimulator(token: ServerHarness.botToken)
        let slackApp = try await RunningApplication.start { slack.application(onRunning: $0) }
        let audit = AuditLogsSimulator(token: ServerHarness.adminToken)
        let auditApp = try await RunningApplication.start { audit.application(onRunning: $0) }
        let curl = CurlTransport()
        defer { curl.shutdown() }
        let metrics = ServerMetrics()
        let interval = 5
        let configuration = try ServerConfiguration.load(environment: [
            "SLACK_SIGNING_SECRET": ServerHarness.signingSecret, "SLACK_BOT_TOKEN": ServerHarness.botToken,
            "SLACK_ALERT_CHANNEL": ServerHarness.channel,
            "SLACK_API_URL": "http://127.0.0.1:\(slackApp.port)/api", "SLACK_ADMIN_TOKEN": ServerHarness.adminToken,
            "SLACK_AUDIT_URL": "http://127.0.0.1:\(auditApp.port)/audit/v1", "SENTRY_SLACK_AUDIT_INTERVAL": String(interval),
            "SENTRY_HTTP_HOST": "127.0.0.1", "SENTRY_HTTP_PORT": "0",
        ]).get()
        let playbooks = [
            Playbook(
                id: "failed-logins", title: "Failed logins", detection: "slack.failed_logins_by_ip", severity: .high,
                rule: ["threshold": 3, "window": "10m"])
        ]
        let store = try SQLiteAlertStore.inMemory()
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let sentry = try await SentryApplication(
            configuration: configuration, playbooks: playbooks, store: store, transport: curl, metrics: metrics, logger: logger)
        let app = try await RunningApplication.start { sentry.application(onRunning: $0) }
        // Let the collector make its first (empty) poll, then the attack shows up in the audit log.
        #expect(await slack.waitUntil { _ in !audit.requests.isEmpty })
        let now = Int64(Date().timeIntervalSince1970)
        let started = ContinuousClock.now
        audit.add((0..<4).map { AuditLogsSimulator.entry(id: "lat-\($0)", action: "user_login_failed", at: now, ip: "203.0.113.77") })
        #expect(await slack.waitUntil(timeout: .seconds(interval + 5)) { $0.topLevelMessages().count == 1 })
        let latency = ContinuousClock.now - started
        print("latency audit entry → Slack alert: \(latency) (poll interval \(interval) s)")
        #expect(latency <= .seconds(interval + 2))
        #expect(slack.topLevelMessages().first?.text.contains("failed Slack logins from 203.0.113.77") == true)

        // The same run, as an operator sees it at /metrics: the collector's polls and events, its lag, and the
        // calls it and the runner made upstream.
        let text = await metrics.render(store: try await store.gauges())
        #expect(metrics.value(ServerMetrics.Name.collectorPolls, [#"collector="slack_audit""#, #"result="ok""#]) >= 2)
        #expect(metrics.value(ServerMetrics.Name.collectorEvents, [#"collector="slack_audit""#]) == 4)
        #expect(text.contains(#"sentry_collector_lag_seconds{collector="slack_audit"} "#))
        #expect(metrics.value(ServerMetrics.Name.upstreamRequests, [#"api="slack_audit""#, #"status="200""#]) >= 2)
        // Counted when the answer is back, which may be a moment after the simulator recorded the post.
        #expect(await eventually { metrics.value(ServerMetrics.Name.upstreamRequests, [#"api="slack.chat.postMessage""#, #"status="200""#]) == 1 })
        #expect(metrics.value(ServerMetrics.Name.alerts, [#"status="open""#]) == 1)
        await app.stop()
        await auditApp.stop()
        await slackApp.stop()
    }
}
