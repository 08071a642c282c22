import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

@Suite struct EngineHookTests {
    /// Each sample through the server to the Slack fake: one message per detection and subject, with the
    /// engine's title, a link back to it, and the answer naming each alert.
    @Test(arguments: EngineHooks.firingSamples)
    func sampleReachesSlack(_ file: String) async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let adapter = try #require(IntakeFixtures.adapter(file))
            let intake = try adapter.decode(try EngineHooks.sample(file))
            let answer = try await h.engineSample(file)
            #expect(answer.status == 202)
            let alerts = try #require(answer.json?["alerts"]?.arrayValue)
            #expect(alerts.count == intake.detections.count)
            let groups = Set(intake.detections.map { Alert.groupKey(detection: $0.detection.detection, subject: $0.detection.subject) })
            #expect(Set(alerts.compactMap { $0["alert_id"]?.stringValue }).count == groups.count)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == groups.count })
            #expect(await h.settled())
            for item in intake.detections {
                let entry = try #require(alerts.first { $0["id"]?.stringValue == item.detection.id })
                let alert = try #require(try await h.store.alert(id: entry["alert_id"]?.stringValue ?? ""))
                #expect(alert.playbookID == "engine-\(adapter.engine.id)")
                #expect(alert.status == .open)
                #expect(alert.link == item.detection.link)
                #expect(alert.engineFiring?.contains(item.engineAlertID) == true)
                let message = try #require(h.simulator.topLevelMessages().first { $0.ts == alert.message?.ts })
                #expect(message.text.contains(AlertMessage.escape(alert.title)))
                if let link = item.detection.link {
                    #expect(message.blocks?.encoded().contains(JSONValue.string(link).encoded().dropFirst().dropLast()) == true)
                }
            }
            let endpoint = "hooks_" + adapter.engine.id.replacingOccurrences(of: "-", with: "_")
            #expect(h.metrics.value("sentry_http_requests_total", ["endpoint=\"\(endpoint)\"", #"status="202""#]) == 1)
            // The same body again changes nothing (Alertmanager re-sends its group every group_interval).
            let edits = h.simulator.topLevelMessages().map(\.edits)
            let occurrences = try await h.store.alerts(statuses: [.open], limit: 50).map(\.occurrences)
            let again = try await h.engineSample(file)
            #expect(again.json?["alerts"]?.arrayValue?.allSatisfy { $0["status"]?.stringValue == "duplicate" } == true)
            #expect(await h.settled())
            #expect(h.simulator.topLevelMessages().map(\.edits) == edits)
            #expect(try await h.store.alerts(statuses: [.open], limit: 50).map(\.occurrences) == occurrences)
            #expect(occurrences.reduce(0, +) == intake.detections.count)
        }
    }

    @Test func badBodyIs400WithTheFieldAndChangesNothing() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let cases: [(String, String, String?)] = [
                (
                    "azure-monitor", #"{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertRule":"r"}}}"#,
                    "data.essentials.alertId"
                ),
                ("alertmanager", #"{"receiver":"x","groupKey":"g","alerts":[{"labels":{},"status":"firing"}]}"#, "alerts[0].labels.alertname"),
                ("splunk", "not json", nil),
                ("panther", "[1]", "body"),
            ]
            for (engine, body, field) in cases {
                let answer = try await h.engineHook(engine, Array(body.utf8))
                #expect(answer.status == 400, "\(engine) \(body)")
                #expect(answer.json?["field"]?.stringValue == field)
                if let field { #expect(answer.json?["error"]?.stringValue?.hasPrefix(field) == true) }
            }
            #expect(try await h.store.countAlerts().isEmpty)
            #expect(h.metrics.value("sentry_engine_detections_total", [#"engine="azure-monitor""#, #"status="bad_body""#]) == 1)
        }
    }

    @Test func wrongEnginesBodyNamesTheEngineItLooksLike() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let answer = try await h.engineHook("azure-monitor", try EngineHooks.sample("alertmanager/firing.json"))
            #expect(answer.status == 400)
            #expect(answer.json?["looks_like"]?.stringValue == "alertmanager")
            #expect(answer.json?["error"]?.stringValue?.contains("/hooks/alertmanager") == true)
            let webhook = try await h.engineHook("splunk", Array(ServerHarness.detection().encoded().utf8))
            #expect(webhook.status == 400)
            #expect(webhook.json?["looks_like"]?.stringValue == "detections")
            #expect(try await h.store.countAlerts().isEmpty)
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let big =
                Array(#"{"receiver":"x","groupKey":"g","pad":""#.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 70 * 1024) + Array(#""}"#.utf8)
            let answer = try await h.engineHook("alertmanager", big)
            #expect(answer.status == 413)
            #expect(h.metrics.value("sentry_http_bodies_refused_total", [#"endpoint="hooks_alertmanager""#, #"reason="too_large""#]) == 1)
        }
    }

    @Test func detectionWithNoPlaybookIs422AndChangesNothing() async throws {
        try await withHarness { h in
            let answer = try await h.engineSample("panther/alert.json")
            #expect(answer.status == 422)
            #expect(answer.text.contains("panther.*"))
            #expect(try await h.store.countAlerts().isEmpty)
        }
    }

    /// Mutated samples through the server: every answer is 2xx or 4xx, never a 5xx or a dropped connection.
    @Test func mutatedSamplesAnswer2xxOr4xx() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            var seed: UInt64 = 0x5EED_1234
            func next(_ bound: Int) -> Int {
                seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Int((seed >> 33) % UInt64(max(bound, 1)))
            }
            let replacements = Array(#"{}[]",:0-9ae\"#.utf8) + [0, 0xff]
            for file in try IntakeFixtures.sampleFiles() {
                let original = try EngineHooks.sample(file)
                let engine = String(file.prefix { $0 != "/" })
                for _ in 0..<12 {
                    var body = original
                    for _ in 0..<(1 + next(4)) {
                        let at = next(body.count)
                        switch next(3) {
                        case 0: body[at] = replacements[next(replacements.count)]
                        case 1: body.remove(at: at)
                        default: body.insert(replacements[next(replacements.count)], at: at)
                        }
                    }
                    let answer = try await h.engineHook(engine, body)
                    #expect((200..<500).contains(answer.status), "\(file): \(answer.status) \(answer.text)")
                }
            }
        }
    }
}
