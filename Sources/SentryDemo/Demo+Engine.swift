import Foundation
import SentryConnectors
import SentryCore
import SentryTesting

/// The engine act of `sentry demo`: Prometheus Alertmanager posts its own body to `/hooks/alertmanager`, the
/// alert is posted, then Alertmanager says it is over and the alert resolves by itself.
extension Demo {
    static let webhookToken = "demo-webhook-token-not-real"

    /// An Alertmanager `webhook_config` body (version 4) with one alert, firing or resolved.
    static func alertmanagerBody(resolved: Bool) -> JSONValue {
        let alert: JSONValue = [
            "status": .string(resolved ? "resolved" : "firing"),
            "labels": ["alertname": "InstanceDown", "instance": "203.0.113.80:9100", "job": "node", "severity": "critical"],
            "annotations": ["summary": "203.0.113.80:9100 has been unreachable for more than 2 minutes"],
            "startsAt": "2026-11-30T09:12:37.482Z",
            "endsAt": .string(resolved ? "2026-11-30T09:20:07.482Z" : "0001-01-01T00:00:00Z"),
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=up+%3D%3D+0",
            "fingerprint": "5c3e9a1f0b7d2e48",
        ]
        return [
            "receiver": "sentry", "status": .string(resolved ? "resolved" : "firing"), "alerts": [alert],
            "groupLabels": ["alertname": "InstanceDown"], "commonLabels": ["alertname": "InstanceDown", "job": "node"],
            "externalURL": "http://alertmanager.example.com:9093", "version": "4",
            "groupKey": #"{}:{alertname="InstanceDown"}"#, "truncatedAlerts": 0,
        ]
    }

    func engineAct(simulator: SlackSimulator, client: LoopbackClient, firstStep: Int) async throws {
        func post(_ body: JSONValue) async throws -> LoopbackClient.Answer {
            try await client.send(
                "POST", "/hooks/alertmanager", body: Array(body.encoded().utf8),
                headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", "Bearer \(Self.webhookToken)")])
        }
        step(firstStep, "Prometheus Alertmanager posts its own webhook body: InstanceDown on 203.0.113.80 (bearer token)")
        let before = simulator.topLevelMessages(channel: Self.channel).count
        let fired = try await post(Self.alertmanagerBody(resolved: false))
        out("    POST /hooks/alertmanager → \(fired.status) \(fired.text)")
        try await expect(await simulator.waitUntil { $0.topLevelMessages(channel: Self.channel).count == before + 1 }, "engine alert posted")
        var message = simulator.topLevelMessages(channel: Self.channel)[before]
        Transcript.blocks(message.blocks).forEach(out)

        step(firstStep + 1, "Eight minutes later the instance is back: Alertmanager sends the same alert as resolved")
        let resolved = try await post(Self.alertmanagerBody(resolved: true))
        out("    POST /hooks/alertmanager → \(resolved.status) \(resolved.text)")
        try await expect(
            await simulator.waitUntil { $0.replies(to: message.ts).contains { $0.text.contains("Resolved by Alertmanager") } }, "engine resolve reply"
        )
        try await expect(
            await simulator.waitUntil {
                $0.topLevelMessages(channel: Self.channel)[before].blocks?.encoded().contains("Resolved by Alertmanager") == true
            },
            "message shows resolved by Alertmanager")
        message = simulator.topLevelMessages(channel: Self.channel)[before]
        out("    Message now says: \(line(message, containing: "Status")); only its link back to Alertmanager is left.")
        out("    Thread reply: \(Transcript.plain(simulator.replies(to: message.ts).last?.text ?? ""))")
    }
}
