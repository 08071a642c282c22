import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

/// Engine hooks through the server: the sample bodies of `../shared/specs/engines` and playbooks for them.
enum EngineHooks {
    /// One playbook per engine (`alertmanager.*`, …) besides the harness's own.
    static let playbooks: [Playbook] =
        ServerHarness.testPlaybooks
        + EngineRegistry.engines.map { engine in
            Playbook(
                id: "engine-\(engine.id)", title: "\(engine.name) alert", detection: "\(engine.detectionPrefix).*", severity: .medium,
                groupingWindow: 3_600, ackTimeout: 900)
        }

    static func sample(_ file: String) throws -> [UInt8] { try IntakeFixtures.body(file) }

    /// The sample files in which something fires (the others only resolve what these opened).
    static let firingSamples = [
        "alertmanager/firing.json", "alertmanager/truncated.json", "grafana/firing.json", "azure-monitor/log-search.fired.json",
        "azure-monitor/activity-log.fired.json", "sentinel/incident.created.json", "splunk/webhook.json", "elastic/webhook-body.json",
        "panther/alert.json", "panther/alert.with-alertContext.unconfirmed.json",
    ]

    static func bearer(_ token: String = ServerHarness.webhookToken) -> [HTTPHeader] {
        [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", "Bearer \(token)")]
    }
}

extension ServerHarness {
    /// Posts a body to `/hooks/<engine>` with the bearer token (or the headers given).
    func engineHook(_ engine: String, _ body: [UInt8], headers: [HTTPHeader] = EngineHooks.bearer(), query: String = "") async throws
        -> LoopbackClient.Answer
    {
        try await client.send("POST", "/hooks/\(engine)\(query)", body: body, headers: headers)
    }

    /// Posts a sample file to its engine's hook.
    func engineSample(_ file: String, headers: [HTTPHeader] = EngineHooks.bearer()) async throws -> LoopbackClient.Answer {
        try await engineHook(String(file.prefix { $0 != "/" }), EngineHooks.sample(file), headers: headers)
    }
}
