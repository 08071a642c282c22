import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

@Suite struct EngineHookAuthTests {
    static let grafanaBody = Array(#"{"receiver":"ir-slack-bot","status":"firing","orgId":1}"#.utf8)

    @Test(arguments: EngineRegistry.engines.map(\.id))
    func everyEngineTakesTheBearerTokenAndRefusesOthers(_ engine: String) async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let file = try #require(EngineHooks.firingSamples.first { $0.hasPrefix(engine + "/") })
            let body = try EngineHooks.sample(file)
            for headers in [[HTTPHeader("Content-Type", "application/json")], EngineHooks.bearer("wrong-token")] {
                let refused = try await h.engineHook(engine, body, headers: headers)
                #expect(refused.status == 401)
                #expect(!refused.text.contains(ServerHarness.webhookToken))
            }
            #expect(try await h.store.countAlerts().isEmpty)
            let answer = try await h.engineHook(engine, body)
            #expect(answer.status == 202)
            #expect(answer.json?["engine"]?.stringValue == engine)
        }
    }

    @Test func unauthenticatedIs401BeforeTheBodyIsRead() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let answer = try await h.engineHook("alertmanager", Array("not json at all".utf8), headers: [])
            #expect(answer.status == 401)
            #expect(answer.text.contains("missing credentials"))
        }
    }

    @Test func queryTokenOnlyWhereTheEngineCanOnlyCallAURL() async throws {
        let lines = RecordingLogLines()
        try await withHarness(playbooks: EngineHooks.playbooks, logger: lines.logger) { h in
            let splunk = try EngineHooks.sample("splunk/webhook.json")
            let plain = [HTTPHeader("Content-Type", "application/json")]
            let wrong = try await h.engineHook("splunk", splunk, headers: plain, query: "?token=nope")
            #expect(wrong.status == 401)
            let right = try await h.engineHook("splunk", splunk, headers: plain, query: "?token=\(ServerHarness.webhookToken)")
            #expect(right.status == 202)
            let azure = try EngineHooks.sample("azure-monitor/log-search.fired.json")
            let azureAnswer = try await h.engineHook("azure-monitor", azure, headers: plain, query: "?token=\(ServerHarness.webhookToken)")
            #expect(azureAnswer.status == 202)
            // Alertmanager can set headers: a token in its URL is refused, so it never ends up there.
            let alertmanager = try await h.engineHook(
                "alertmanager", try EngineHooks.sample("alertmanager/firing.json"), headers: plain, query: "?token=\(ServerHarness.webhookToken)")
            #expect(alertmanager.status == 401)
            #expect(alertmanager.text.contains("Authorization: Bearer"))
            // Neither log lines nor metrics show the query.
            #expect(!lines.lines.isEmpty)
            #expect(lines.lines.contains { $0.contains("/hooks/splunk") })
            let leaked = lines.lines.filter { $0.contains(ServerHarness.webhookToken) || $0.contains("token=") }
            #expect(leaked.isEmpty, "\(leaked)")
            let metrics = try await h.client.send("GET", "/metrics").text
            #expect(!metrics.contains(ServerHarness.webhookToken))
            #expect(h.metrics.value("sentry_http_requests_total", [#"endpoint="hooks_splunk""#, #"status="202""#]) == 1)
            #expect(h.metrics.value("sentry_http_requests_total", [#"endpoint="hooks_splunk""#, #"status="401""#]) == 1)
        }
    }

    @Test func grafanaSignatureWithAndWithoutTimestamp() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let body = try EngineHooks.sample("grafana/firing.json")
            let grafana = GrafanaSignature(secret: ServerHarness.webhookSecret)
            let json = HTTPHeader("Content-Type", "application/json")
            let bodyOnly = try await h.engineHook(
                "grafana", body, headers: [json, HTTPHeader(GrafanaSignature.header, grafana.sign(timestamp: nil, body: body))])
            #expect(bodyOnly.status == 202)
            let now = String(Int(h.clock.now().timeIntervalSince1970))
            let stamped = try await h.engineHook(
                "grafana", body,
                headers: [
                    json, HTTPHeader(GrafanaSignature.header, grafana.sign(timestamp: now, body: body)),
                    HTTPHeader(GrafanaSignature.timestampHeader, now),
                ])
            #expect(stamped.status == 202)
            #expect(stamped.json?["status"]?.stringValue == "duplicate")
            let old = String(Int(h.clock.now().timeIntervalSince1970) - 301)
            let stale = try await h.engineHook(
                "grafana", body,
                headers: [
                    json, HTTPHeader(GrafanaSignature.header, grafana.sign(timestamp: old, body: body)),
                    HTTPHeader(GrafanaSignature.timestampHeader, old),
                ])
            #expect(stale.status == 401)
            #expect(stale.text.contains("grafana_stale_timestamp"))
            // Signed without the timestamp, sent with one: the timestamp is part of what is signed.
            let unsigned = try await h.engineHook(
                "grafana", body,
                headers: [
                    json, HTTPHeader(GrafanaSignature.header, grafana.sign(timestamp: nil, body: body)),
                    HTTPHeader(GrafanaSignature.timestampHeader, now),
                ])
            #expect(unsigned.status == 401)
            let wrongKey = try await h.engineHook(
                "grafana", body,
                headers: [json, HTTPHeader(GrafanaSignature.header, GrafanaSignature(secret: "other").sign(timestamp: nil, body: body))])
            #expect(wrongKey.status == 401)
            #expect(wrongKey.text.contains("grafana_signature_mismatch"))
            #expect(!wrongKey.text.contains(ServerHarness.webhookSecret))
            // Only Grafana's hook knows Grafana's signature.
            let elsewhere = try await h.engineHook(
                "alertmanager", try EngineHooks.sample("alertmanager/firing.json"),
                headers: [json, HTTPHeader(GrafanaSignature.header, grafana.sign(timestamp: nil, body: body))])
            #expect(elsewhere.status == 401)
        }
    }

    @Test func grafanaSignatureWithoutASecretIsRefused() async throws {
        try await withHarness(environment: ["SENTRY_WEBHOOK_SECRET": ""], playbooks: EngineHooks.playbooks) { h in
            let body = try EngineHooks.sample("grafana/firing.json")
            let signed = GrafanaSignature(secret: ServerHarness.webhookSecret).sign(timestamp: nil, body: body)
            let answer = try await h.engineHook("grafana", body, headers: [HTTPHeader(GrafanaSignature.header, signed)])
            #expect(answer.status == 401)
        }
    }

    @Test func hooksAre404WithNeitherSetting() async throws {
        try await withHarness(environment: ["SENTRY_WEBHOOK_SECRET": "", "SENTRY_WEBHOOK_TOKEN": ""], playbooks: EngineHooks.playbooks) { h in
            let answer = try await h.engineSample("panther/alert.json")
            #expect(answer.status == 404)
        }
    }
}
