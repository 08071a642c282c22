import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// Bodies an adapter must refuse, each with the path of the field it could not read or the engine it looks like.
@Suite struct IntakeBadInputTests {
    /// A sample with the value at `path` (keys and array indexes) replaced, or removed when `value` is nil.
    static func sample(_ file: String, _ path: [String], _ value: JSONValue?) -> String {
        let root = JSONValue.parse(try! IntakeFixtures.body(file))!
        return edit(root, path[...], value)?.encoded() ?? "null"
    }

    static func edit(_ node: JSONValue, _ path: ArraySlice<String>, _ value: JSONValue?) -> JSONValue? {
        guard let key = path.first else { return value }
        switch node {
        case .object(var object):
            object[key] = object[key].flatMap { edit($0, path.dropFirst(), value) } ?? (path.count == 1 ? value : nil)
            return .object(object)
        case .array(var array):
            let index = Int(key)!
            if let replaced = edit(array[index], path.dropFirst(), value) { array[index] = replaced } else { array.remove(at: index) }
            return .array(array)
        default:
            return node
        }
    }

    /// (engine id, body, the error's description exactly)
    static let cases: [(String, String, String)] = [
        // Alertmanager
        ("alertmanager", sample("alertmanager/firing.json", ["alerts"], nil), "alerts missing"),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts"], []), "alerts is empty"),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts"], "x"), "alerts must be an array"),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts", "1"], 7), "alerts[1] must be an object"),
        ("alertmanager", sample("alertmanager/firing.json", ["groupKey"], nil), "groupKey missing"),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts", "0", "labels"], nil), "alerts[0].labels missing"),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts", "0", "labels"], ["alertname"]), "alerts[0].labels must be an object"),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts", "1", "labels", "alertname"], nil), "alerts[1].labels.alertname missing"),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts", "0", "labels", "alertname"], "  "), "alerts[0].labels.alertname missing"),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts", "0", "labels", "job"], 3), "alerts[0].labels.job must be a string"),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts", "0", "fingerprint"], nil), "alerts[0].fingerprint missing"),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts", "0", "fingerprint"], 5), "alerts[0].fingerprint must be a string"),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts", "1", "startsAt"], nil), "alerts[1].startsAt missing"),
        (
            "alertmanager", sample("alertmanager/firing.json", ["alerts", "0", "status"], "pending"),
            #"alerts[0].status must be firing or resolved, not "pending""#
        ),
        ("alertmanager", sample("alertmanager/firing.json", ["alerts", "0", "annotations"], "x"), "alerts[0].annotations must be an object"),
        ("alertmanager", sample("alertmanager/firing.json", ["truncatedAlerts"], -1), "truncatedAlerts must be a whole number, 0 or more"),
        ("alertmanager", sample("alertmanager/firing.json", ["truncatedAlerts"], "3"), "truncatedAlerts must be a number"),
        // Grafana
        ("grafana", sample("grafana/firing.json", ["alerts", "0", "values", "A"], "high"), "alerts[0].values.A must be a number"),
        ("grafana", sample("grafana/firing.json", ["alerts", "0", "fingerprint"], nil), "alerts[0].fingerprint missing"),
        ("grafana", sample("grafana/firing.json", ["alerts", "0", "labels", "alertname"], nil), "alerts[0].labels.alertname missing"),
        // Azure Monitor
        ("azure-monitor", sample("azure-monitor/log-search.fired.json", ["data", "essentials", "alertId"], nil), "data.essentials.alertId missing"),
        (
            "azure-monitor", sample("azure-monitor/log-search.fired.json", ["data", "essentials", "alertId"], 12),
            "data.essentials.alertId must be a string"
        ),
        (
            "azure-monitor", sample("azure-monitor/log-search.fired.json", ["data", "essentials", "alertRule"], ""),
            "data.essentials.alertRule missing"
        ),
        ("azure-monitor", sample("azure-monitor/log-search.fired.json", ["data", "essentials"], nil), "data.essentials missing"),
        ("azure-monitor", sample("azure-monitor/log-search.fired.json", ["data"], []), "data must be an object"),
        (
            "azure-monitor", sample("azure-monitor/log-search.fired.json", ["data", "essentials", "monitorCondition"], "Flapping"),
            #"data.essentials.monitorCondition must be Fired or Resolved, not "Flapping""#
        ),
        (
            "azure-monitor", sample("azure-monitor/log-search.fired.json", ["data", "essentials", "configurationItems", "0"], 1),
            "data.essentials.configurationItems[0] must be a string"
        ),
        (
            "azure-monitor",
            sample("azure-monitor/log-search.fired.json", ["data", "alertContext", "condition", "allOf", "0", "dimensions", "1", "name"], nil),
            "data.alertContext.condition.allOf[0].dimensions[1].name missing"
        ),
        (
            "azure-monitor", sample("azure-monitor/log-search.fired.json", ["data", "alertContext", "condition", "allOf"], "all"),
            "data.alertContext.condition.allOf must be an array"
        ),
        (
            "azure-monitor", sample("azure-monitor/log-search.fired.json", ["schemaId"], "AzureMonitorMetricAlert"),
            #"schemaId is "AzureMonitorMetricAlert"; turn on the common alert schema in the action group"#
        ),
        // Sentinel
        ("sentinel", sample("sentinel/incident.created.json", ["object", "name"], nil), "object.name missing"),
        ("sentinel", sample("sentinel/incident.created.json", ["object", "properties", "title"], nil), "object.properties.title missing"),
        ("sentinel", sample("sentinel/incident.created.json", ["object", "properties"], "x"), "object.properties must be an object"),
        (
            "sentinel", sample("sentinel/incident.created.json", ["object", "properties", "relatedEntities", "2"], "Host"),
            "object.properties.relatedEntities[2] must be an object"
        ),
        (
            "sentinel", sample("sentinel/incident.created.json", ["object", "properties", "relatedEntities", "1", "properties", "address"], 4),
            "object.properties.relatedEntities[1].properties.address must be a string"
        ),
        (
            "sentinel", sample("sentinel/incident.closed.json", ["object", "properties", "classification"], true),
            "object.properties.classification must be a string"
        ),
        // Splunk
        ("splunk", sample("splunk/webhook.json", ["sid"], nil), "sid missing"),
        ("splunk", sample("splunk/webhook.json", ["sid"], ["x"]), "sid must be a string"),
        ("splunk", sample("splunk/webhook.json", ["result"], "row"), "result must be an object"),
        ("splunk", sample("splunk/webhook.json", ["result", "user"], ["name": "bob"]), "result.user must be a string"),
        ("splunk", sample("splunk/webhook.json", ["search_name"], 1), "search_name must be a string"),
        // Elastic
        ("elastic", sample("elastic/webhook-body.json", ["kibana.alert.uuid"], nil), "kibana.alert.uuid missing"),
        ("elastic", sample("elastic/webhook-body.json", ["kibana.alert.uuid"], ""), "kibana.alert.uuid missing"),
        ("elastic", sample("elastic/webhook-body.json", ["kibana.alert.rule.name"], nil), "kibana.alert.rule.name missing"),
        ("elastic", sample("elastic/webhook-body.json", ["kibana.alert.rule.name"], ["x"]), "kibana.alert.rule.name must be a string or a number"),
        // Panther
        ("panther", sample("panther/alert.json", ["id"], nil), "id missing"),
        ("panther", sample("panther/alert.json", ["alertId"], 5), "alertId must be a string"),
        ("panther", sample("panther/alert.json", ["tags"], "Okta"), "tags must be an array"),
        ("panther", sample("panther/alert.json", ["alertContext"], "x"), "alertContext must be an object"),
    ]

    @Test(arguments: cases.indices)
    func badFieldIsNamed(_ index: Int) throws {
        let (engine, body, message) = Self.cases[index]
        let adapter = try #require(EngineRegistry.adapter(id: engine))
        let error = try #require(IntakeFixtures.error(adapter, body), "\(engine) accepted: \(body.prefix(200))")
        #expect(error.description == message)
        if let path = error.path { #expect(message.hasPrefix(path)) }
    }

    @Test func everyAdapterHasBadInputCases() {
        #expect(Set(Self.cases.map(\.0)) == Set(EngineRegistry.engines.map(\.id)))
    }

    @Test(arguments: EngineRegistry.engines.map(\.id))
    func notJSONAndNotAnObjectAreRefused(_ engine: String) throws {
        let adapter = try #require(EngineRegistry.adapter(id: engine))
        #expect(IntakeFixtures.error(adapter, "") == .notJSON)
        #expect(IntakeFixtures.error(adapter, "{\"alerts\": [") == .notJSON)
        #expect(IntakeFixtures.error(adapter, "[1, 2]") == .wrongType(path: "body", expected: "a JSON object"))
        #expect(IntakeFixtures.error(adapter, "\"text\"")?.description == "body must be a JSON object")
        // An empty object is no engine's: the first field the adapter needs is named.
        #expect(IntakeFixtures.error(adapter, "{}")?.description.hasSuffix(" missing") == true)
    }

    /// Every sample posted to every other engine's hook is refused with the sample's engine named.
    @Test(arguments: try IntakeFixtures.sampleFiles())
    func samplePostedToAnotherHookNamesItsEngine(_ sample: String) throws {
        let own = try #require(IntakeFixtures.adapter(sample))
        let body = try IntakeFixtures.body(sample)
        for adapter in EngineRegistry.adapters where adapter.engine != own.engine {
            guard case .failure(let error) = IntakeFixtures.decode(adapter, body) else {
                Issue.record("\(adapter.engine.id) accepted \(sample)")
                continue
            }
            #expect(error == .wrongEngine(hook: adapter.engine, looksLike: own.engine))
            #expect(error.description.contains("looks like \(own.engine.withArticle) body"))
            #expect(error.description.contains(own.engine.hookPath))
        }
    }

    @Test func wrongEngineMessageReadsWell() {
        let body = try! IntakeFixtures.body("alertmanager/firing.json")
        guard case .failure(let error) = IntakeFixtures.decode(AzureMonitorAdapter.self, body) else {
            Issue.record("accepted")
            return
        }
        #expect(error.description == "this body looks like an Alertmanager body, not an Azure Monitor one: POST it to /hooks/alertmanager")
    }

    @Test func detectionWebhookBodyIsRecognised() throws {
        let body = Array(CoreDetectionWebhookTests.designExample.utf8)
        #expect(EngineSniffer.guess(body) == .sentryWebhook)
        for adapter in EngineRegistry.adapters {
            #expect(
                IntakeFixtures.error(adapter, CoreDetectionWebhookTests.designExample)?.description
                    == "this body looks like a Sentry detection webhook body, not \(adapter.engine.withArticle) one: POST it to /hooks/detections")
        }
    }

    @Test func sniffer() {
        #expect(EngineSniffer.guess(Array("not json".utf8)) == nil)
        #expect(EngineSniffer.guess(Array("{}".utf8)) == nil)
        #expect(EngineSniffer.guess(Array(#"{"hello":"world"}"#.utf8)) == nil)
        #expect(EngineSniffer.guess(Array(#"{"schemaId":"azureMonitorCommonAlertSchema"}"#.utf8)) == AzureMonitorAdapter.engine)
        #expect(EngineSniffer.guess(Array(#"{"receiver":"r","alerts":[],"version":"4"}"#.utf8)) == AlertmanagerAdapter.engine)
        #expect(EngineSniffer.guess(Array(#"{"receiver":"r","alerts":[],"orgId":1}"#.utf8)) == GrafanaAdapter.engine)
        #expect(EngineSniffer.guess(Array(#"{"receiver":"r","alerts":[{"ruleUID":"x"}]}"#.utf8)) == GrafanaAdapter.engine)
        #expect(EngineSniffer.guess(Array(#"{"sid":"1","result":{}}"#.utf8)) == SplunkAdapter.engine)
        #expect(EngineSniffer.guess(Array(#"{"kibana.alert.uuid":"u"}"#.utf8)) == ElasticAdapter.engine)
        #expect(EngineSniffer.guess(Array(#"{"alertId":null,"severity":"INFO","type":"POLICY"}"#.utf8)) == PantherAdapter.engine)
        #expect(EngineSniffer.guess(Array(#"{"object":{"properties":{}},"objectSchemaType":"Incident"}"#.utf8)) == SentinelAdapter.engine)
        // At most one adapter claims each sample: the shapes are exclusive.
        for sample in (try? IntakeFixtures.sampleFiles()) ?? [] {
            let object = JSONValue.parse(try! IntakeFixtures.body(sample))!.objectValue!
            #expect(EngineRegistry.adapters.filter { $0.looksLike(object) }.count == 1, "\(sample)")
        }
    }
}
