import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// Every engine sample of `../shared/specs/engines` through its adapter: the facts a responder sees, then the
/// whole intake against a reviewed copy in Tests/SentryTests/Golden/intake (regenerate with
/// `SENTRY_UPDATE_GOLDEN=1 swift test --filter IntakeSample`, then review the diff).
@Suite struct IntakeSampleTests {
    struct Expected: Sendable {
        var id: String
        var detection: String
        var engineAlertID: String
        var severity: Severity?
        var subject: Subject
        var title: String
        var link: String?
        var resolvedBy: String? = nil
    }

    static let azureAlert = "/subscriptions/5f1c2d3e-0000-4abc-8def-00000000c0de/providers/Microsoft.AlertsManagement/alerts/"
    static let amURL = "http://prometheus.example.com:9090/graph?g0.expr=up%7Bjob%3D%22node%22%7D+%3D%3D+0&g0.tab=1"
    static let amErrorURL =
        "http://prometheus.example.com:9090/graph?g0.expr=sum+by%28pod%29+%28rate%28http_requests_total%7Bcode%3D~%225..%22%7D%5B5m%5D%29%29+%3E+5&g0.tab=1"
    static let grafanaURL = "https://grafana.example.com/alerting/grafana/c3a9f1e2-4b7d-4e0a-9f61-8d2c5b7a0e13/view?orgId=1"
    /// The filtered search results of the log search alert, up to its time window.
    static let azureLogsLink =
        "https://portal.azure.com#@7e6d5c4b-0000-4a3b-8c2d-00000000beef/blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/source/Alerts.EmailLinks/scope/%7B%22resources%22%3A%5B%7B%22resourceId%22%3A%22%2Fsubscriptions%2F5f1c2d3e-0000-4abc-8def-00000000c0de%2FresourceGroups%2Frg-secops%2Fproviders%2FMicrosoft.OperationalInsights%2Fworkspaces%2Flaw-secops%22%7D%5D%7D/q/FAKEBASE64QUERY/prettify/1/timespan/"
    static let sentinelID = "b7d3f1a9-2c4e-4b6a-8d0f-1e3a5c7b9d21"
    static let sentinelURL =
        "https://portal.azure.com/#asset/Microsoft_Azure_Security_Insights/Incident/subscriptions/5f1c2d3e-0000-4abc-8def-00000000c0de/resourceGroups/rg-secops/providers/Microsoft.OperationalInsights/workspaces/law-secops/providers/Microsoft.SecurityInsights/Incidents/b7d3f1a9-2c4e-4b6a-8d0f-1e3a5c7b9d21"
    static let sentinelSubject = Subject(ip: "198.51.100.23", host: "vm-web-01.example.com", email: "alice@example.com", account: "alice")
    static let splunkSID = "scheduler__admin__search__RMD5b6f1c0d2e3a49875_at_1764497100_4821"

    static func instanceDown(_ fingerprint: String, _ startsAt: String, _ ip: String, _ severity: Severity, resolved: Bool) -> Expected {
        Expected(
            id: "alertmanager:\(fingerprint):\(startsAt)" + (resolved ? ":resolved" : ""), detection: "alertmanager.instancedown",
            engineAlertID: "alertmanager:\(fingerprint)", severity: severity, subject: Subject(ip: ip), title: "InstanceDown", link: amURL,
            resolvedBy: resolved ? "Alertmanager" : nil)
    }

    static func highErrorRate(_ fingerprint: String, _ startsAt: String) -> Expected {
        Expected(
            id: "alertmanager:\(fingerprint):\(startsAt)", detection: "alertmanager.higherrorrate", engineAlertID: "alertmanager:\(fingerprint)",
            severity: .critical, subject: Subject(rule: "alertmanager.higherrorrate"), title: "HighErrorRate", link: amErrorURL)
    }

    static func highCPU(resolved: Bool) -> Expected {
        Expected(
            id: "grafana:d2f47a9b1c0e3865:2026-11-30T08:55:10Z" + (resolved ? ":resolved" : ""), detection: "grafana.highcpu",
            engineAlertID: "grafana:d2f47a9b1c0e3865", severity: .critical, subject: Subject(ip: "203.0.113.21"), title: "HighCPU",
            link: grafanaURL, resolvedBy: resolved ? "Grafana" : nil)
    }

    static func logSearch(resolved: Bool) -> Expected {
        let alertID = azureAlert + "3c1f9d2e-7b4a-4e61-9f0d-2a5b8c7e1d40"
        return Expected(
            id: "azure-monitor:\(alertID):\(resolved ? "resolved" : "fired")", detection: "azure.ir-failed-logons-burst",
            engineAlertID: "azure-monitor:\(alertID)", severity: .high,
            subject: Subject(ip: "198.51.100.23", host: "vm-web-01.example.com", account: "alice"), title: "ir-failed-logons-burst",
            link: azureLogsLink
                + (resolved ? "2026-11-30T10%3a35%3a04Z%2f2026-11-30T10%3a50%3a04Z" : "2026-11-30T09%3a50%3a04Z%2f2026-11-30T10%3a05%3a04Z"),
            resolvedBy: resolved ? "Azure Monitor" : nil)
    }

    static func incident(closed: Bool) -> Expected {
        Expected(
            id: "sentinel:\(sentinelID)" + (closed ? ":closed" : ""), detection: "sentinel.failed_logon_burst_followed_by_success",
            engineAlertID: "sentinel:\(sentinelID)", severity: .high, subject: sentinelSubject, title: "Failed logon burst followed by success",
            link: sentinelURL, resolvedBy: closed ? "Microsoft Sentinel" : nil)
    }

    static let panther = Expected(
        id: "panther:4f2a9c0e8b7d6a5f4e3d2c1b0a998877", detection: "panther.okta.bruteforcelogins",
        engineAlertID: "panther:4f2a9c0e8b7d6a5f4e3d2c1b0a998877", severity: .high, subject: Subject(rule: "panther.okta.bruteforcelogins"),
        title: "Okta brute force: 41 failed logins for carol@example.com from 192.0.2.77",
        link: "https://example.runpanther.net/alerts/4f2a9c0e8b7d6a5f4e3d2c1b0a998877")

    /// (sample, detections in order). Every sample file must be here: `everySampleIsInTheTable`.
    static let table: [(String, [Expected])] = [
        (
            "alertmanager/firing.json",
            [
                instanceDown("5c3e9a1f0b7d2e48", "2026-11-30T09:12:37.482Z", "203.0.113.7", .critical, resolved: false),
                instanceDown("a41d07c9e3f25b6a", "2026-11-30T09:13:07.482Z", "203.0.113.8", .medium, resolved: false),
            ]
        ),
        (
            "alertmanager/resolved.json",
            [
                instanceDown("5c3e9a1f0b7d2e48", "2026-11-30T09:12:37.482Z", "203.0.113.7", .critical, resolved: true),
                instanceDown("a41d07c9e3f25b6a", "2026-11-30T09:13:07.482Z", "203.0.113.8", .medium, resolved: true),
            ]
        ),
        (
            "alertmanager/truncated.json",
            [
                highErrorRate("0e8b1c4d7a2f9356", "2026-11-30T10:02:11.09Z"), highErrorRate("3b6f2e0a9c1d4785", "2026-11-30T10:02:41.09Z"),
            ]
        ),
        (
            "azure-monitor/activity-log.fired.json",
            [
                Expected(
                    id: "azure-monitor:\(azureAlert)6e0a4b2c-91d3-4f57-a8e6-1c9b3d5f7a20:fired", detection: "azure.nsg-rule-written",
                    engineAlertID: "azure-monitor:\(azureAlert)6e0a4b2c-91d3-4f57-a8e6-1c9b3d5f7a20", severity: .low,
                    subject: Subject(ip: "198.51.100.23", email: "alice@example.com"), title: "nsg-rule-written", link: nil)
            ]
        ),
        ("azure-monitor/log-search.fired.json", [logSearch(resolved: false)]),
        ("azure-monitor/log-search.resolved.json", [logSearch(resolved: true)]),
        (
            "elastic/webhook-body.json",
            [
                Expected(
                    id: "elastic:9f1e3c5a7b2d4f6e8a0c1b3d5f7e9a2c4b6d8f0e1a3c5b7d9f2e4a6c8b0d1f3e",
                    detection: "elastic.multiple_logon_failure_followed_by_logon_success",
                    engineAlertID: "elastic:9f1e3c5a7b2d4f6e8a0c1b3d5f7e9a2c4b6d8f0e1a3c5b7d9f2e4a6c8b0d1f3e", severity: .high,
                    subject: Subject(ip: "192.0.2.66", host: "ws-fin-07", account: "carol"),
                    title: "Multiple Logon Failure Followed by Logon Success",
                    link:
                        "https://kibana.example.com/s/default/app/security/detections/rules/id/6b0f2d4e-8a1c-4e3b-9d5f-7a2c4e6b8d01?timerange=(global:(linkTo:!(timeline),timerange:(from:1764500568311,kind:absolute,to:1764500628311)))"
                )
            ]
        ),
        ("grafana/firing.json", [highCPU(resolved: false)]),
        ("grafana/resolved.json", [highCPU(resolved: true)]),
        ("panther/alert.json", [panther]),
        (
            "panther/alert.with-alertContext.unconfirmed.json",
            [
                {
                    var expected = panther
                    expected.subject = Subject(ip: "192.0.2.77", email: "carol@example.com")
                    return expected
                }()
            ]
        ),
        ("sentinel/incident.closed.json", [incident(closed: true)]),
        ("sentinel/incident.created.json", [incident(closed: false)]),
        (
            "splunk/webhook.json",
            [
                Expected(
                    id:
                        "splunk:\(splunkSID):\(IntakeText.shortHash(#"{"action":"success","dest":"vpn-gw-01.example.com","failed_count":"37","severity":"high","src_ip":"203.0.113.45","user":"bob"}"#))",
                    detection: "splunk.ir_brute_force_then_success",
                    engineAlertID:
                        "splunk:\(splunkSID):\(IntakeText.shortHash(#"{"action":"success","dest":"vpn-gw-01.example.com","failed_count":"37","severity":"high","src_ip":"203.0.113.45","user":"bob"}"#))",
                    severity: .high, subject: Subject(ip: "203.0.113.45", account: "bob"), title: "IR - Brute force then success",
                    link: "https://splunk.example.com:8000/app/search/@go?sid=\(splunkSID)")
            ]
        ),
    ]

    @Test func everySampleIsInTheTable() throws {
        let files = try IntakeFixtures.sampleFiles()
        #expect(files.count >= 14)
        #expect(files == Self.table.map(\.0).sorted())
        // Each engine's folder is named for its hook, and every engine has samples.
        #expect(Set(files.map { String($0.prefix { $0 != "/" }) }) == Set(EngineRegistry.engines.map(\.id)))
    }

    @Test(arguments: table.map(\.0))
    func sampleMapsToItsDetections(_ sample: String) throws {
        let expected = try #require(Self.table.first { $0.0 == sample }?.1)
        let adapter = try #require(IntakeFixtures.adapter(sample))
        let intake = try IntakeFixtures.decode(adapter, try IntakeFixtures.body(sample)).get()
        #expect(intake.engine == adapter.engine)
        #expect(intake.detections.count == expected.count)
        for (item, want) in zip(intake.detections, expected) {
            let detection = item.detection
            #expect(detection.id == want.id)
            #expect(detection.detection == want.detection)
            #expect(item.engineAlertID == want.engineAlertID)
            #expect(detection.severity == want.severity)
            #expect(detection.subject == want.subject)
            #expect(detection.title == want.title)
            #expect(detection.link == want.link)
            #expect(item.resolved?.by == want.resolvedBy)
            // What an adapter makes, the detection webhook takes as it is.
            #expect(IntakeFixtures.throughWebhook(detection) == detection)
            #expect(detection.evidence != nil)
            #expect((detection.evidence?.encoded().utf8.count ?? 0) <= IntakeText.maxEvidenceBytes)
        }
        // The sniffer names the engine of its own samples.
        #expect(EngineSniffer.guess(try IntakeFixtures.body(sample)) == adapter.engine)
    }

    @Test(arguments: table.map(\.0))
    func sampleMatchesItsGoldenCopy(_ sample: String) throws {
        let adapter = try #require(IntakeFixtures.adapter(sample))
        let intake = try IntakeFixtures.decode(adapter, try IntakeFixtures.body(sample)).get()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let rendered = String(decoding: try encoder.encode(IntakeFixtures.json(intake)), as: UTF8.self) + "\n"
        let name = sample.replacingOccurrences(of: "/", with: "--")
        let file = CoreFixtures.golden.appendingPathComponent("intake").appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["SENTRY_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try rendered.write(to: file, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(rendered == golden, "\(sample) maps differently; if intended, regenerate with SENTRY_UPDATE_GOLDEN=1 and review the diff")
    }

    // MARK: Facts beyond the table

    @Test func alertmanagerTimesSummariesAndGroup() throws {
        let firing = try IntakeFixtures.decode(AlertmanagerAdapter.self, try IntakeFixtures.body("alertmanager/firing.json")).get()
        #expect(
            firing.group
                == EngineGroup(
                    key: #"{}/{severity=~"critical|warning"}:{alertname="InstanceDown", job="node"}"#, receiver: "ir-slack-bot", truncatedAlerts: 0))
        #expect(firing.detections[0].detection.occurredAt == IntakeFixtures.date("2026-11-30T09:12:37.482Z"))
        #expect(firing.detections[0].detection.summary == "203.0.113.7:9100 has been unreachable for more than 2 minutes")
        #expect(firing.detections[0].fields["labels.instance"] == "203.0.113.7:9100")
        #expect(firing.detections[0].fields["annotations.runbook_url"] == "https://wiki.example.com/runbooks/instance-down")
        let resolved = try IntakeFixtures.decode(AlertmanagerAdapter.self, try IntakeFixtures.body("alertmanager/resolved.json")).get()
        #expect(resolved.detections[0].resolved == EngineResolution(by: "Alertmanager", at: IntakeFixtures.date("2026-11-30T09:41:52.482Z")))
        #expect(resolved.detections[1].resolved?.at == IntakeFixtures.date("2026-11-30T09:38:22.482Z"))
        // The resolve names the same engine alerts as the fire, and is not a duplicate of it.
        #expect(resolved.detections.map(\.engineAlertID) == firing.detections.map(\.engineAlertID))
        #expect(Set(resolved.detections.map(\.detection.id)).isDisjoint(with: firing.detections.map(\.detection.id)))
        #expect(resolved.group?.key == firing.group?.key)
    }

    @Test func truncatedGroupSaysHowManyWereLeftOut() throws {
        let intake = try IntakeFixtures.decode(AlertmanagerAdapter.self, try IntakeFixtures.body("alertmanager/truncated.json")).get()
        #expect(intake.group?.truncatedAlerts == 3)
        for item in intake.detections {
            #expect(item.detection.evidence?["truncatedAlerts"] == 3)
            #expect(item.fields["labels.pod"]?.hasPrefix("checkout-api-") == true)
        }
    }

    /// Alertmanager sends the same group again every group_interval: the same alerts give the same ids, whatever
    /// else of the group changed, so the second is a duplicate, not an occurrence.
    @Test func reNotificationOfAGroupHasTheSameIDs() throws {
        let first = try IntakeFixtures.decode(AlertmanagerAdapter.self, try IntakeFixtures.body("alertmanager/truncated.json")).get()
        var body = try #require(JSONValue.parse(try IntakeFixtures.body("alertmanager/truncated.json"))?.objectValue)
        body["notification_reason"] = "repeat interval"
        body["truncatedAlerts"] = 5
        body["alerts"] = .array((body["alerts"]?.arrayValue ?? []).reversed())
        let again = try IntakeFixtures.decode(AlertmanagerAdapter.self, Array(JSONValue.object(body).encoded().utf8)).get()
        #expect(Set(again.detections.map(\.detection.id)) == Set(first.detections.map(\.detection.id)))
        #expect(again.group?.key == first.group?.key)
        #expect(again.group?.truncatedAlerts == 5)
        // The same alert firing again later (a new startsAt) is a new occurrence of the same engine alert.
        var later = body
        var alerts = later["alerts"]?.arrayValue ?? []
        var alert = try #require(alerts[0].objectValue)
        alert["startsAt"] = "2026-11-30T12:00:00Z"
        alerts[0] = .object(alert)
        later["alerts"] = .array(alerts)
        let refired = try IntakeFixtures.decode(AlertmanagerAdapter.self, Array(JSONValue.object(later).encoded().utf8)).get()
        #expect(refired.detections[0].engineAlertID == again.detections[0].engineAlertID)
        #expect(refired.detections[0].detection.id != again.detections[0].detection.id)
    }

    @Test func azureFiredAndResolvedShareTheAlertButNotTheID() throws {
        let fired = try IntakeFixtures.decode(AzureMonitorAdapter.self, try IntakeFixtures.body("azure-monitor/log-search.fired.json")).get()
            .detections[0]
        let resolved = try IntakeFixtures.decode(AzureMonitorAdapter.self, try IntakeFixtures.body("azure-monitor/log-search.resolved.json")).get()
            .detections[0]
        #expect(fired.engineAlertID == resolved.engineAlertID)
        #expect(fired.detection.id != resolved.detection.id)
        #expect(fired.resolved == nil)
        #expect(resolved.resolved == EngineResolution(by: "Azure Monitor"))
        #expect(fired.detection.summary == "More than 25 failed logons (4625) for one account/source in 15 minutes")
        #expect(fired.detection.occurredAt == IntakeFixtures.date("2026-11-30T10:05:11.2783419Z"))
        #expect(fired.fields["dimensions.IpAddress"] == "198.51.100.23")
        #expect(fired.fields["customProperties.runbook"] == "https://wiki.example.com/ir/failed-logons")
        #expect(fired.detection.evidence?["dimensions"]?["Computer"] == "vm-web-01.example.com")
        // Azure retries the same alertId and monitorCondition: the same id, a duplicate.
        let retried = try IntakeFixtures.decode(AzureMonitorAdapter.self, try IntakeFixtures.body("azure-monitor/log-search.fired.json")).get()
            .detections[0]
        #expect(retried.detection.id == fired.detection.id)
    }

    @Test func activityLogReadsTheCallerAndItsClaims() throws {
        let item = try IntakeFixtures.decode(AzureMonitorAdapter.self, try IntakeFixtures.body("azure-monitor/activity-log.fired.json")).get()
            .detections[0]
        #expect(item.fields["alertContext.caller"] == "alice@example.com")
        #expect(item.fields["claims.ipaddr"] == "198.51.100.23")
        #expect(item.fields["claims.upn"] == "alice@example.com")
        #expect(item.detection.evidence?["operationName"] == "Microsoft.Network/networkSecurityGroups/securityRules/write")
    }

    /// Two claim URIs that end alike: the first by key wins, whatever order the dictionary keeps (found by fuzzing).
    @Test func claimsEndingAlikeAreReadInKeyOrder() throws {
        let claims = #"{"http://b.example/claims/upn":"second@example.com","http://a.example/claims/upn":"first@example.com"}"#
        let text = String(decoding: try IntakeFixtures.body("azure-monitor/activity-log.fired.json"), as: UTF8.self)
        var body = try #require(JSONValue.parse(Array(text.utf8))?.objectValue)
        var data = try #require(body["data"]?.objectValue)
        var context = try #require(data["alertContext"]?.objectValue)
        context["claims"] = .string(claims)
        context["caller"] = nil
        data["alertContext"] = .object(context)
        body["data"] = .object(data)
        for _ in 0..<5 {
            let item = try IntakeFixtures.decode(AzureMonitorAdapter.self, Array(JSONValue.object(body).encoded().utf8)).get().detections[0]
            #expect(item.fields["claims.upn"] == "first@example.com")
            #expect(item.detection.subject.email == "first@example.com")
        }
    }

    @Test func sentinelClosedCarriesItsClassification() throws {
        let closed = try IntakeFixtures.decode(SentinelAdapter.self, try IntakeFixtures.body("sentinel/incident.closed.json")).get().detections[0]
        #expect(
            closed.resolved
                == EngineResolution(
                    by: "Microsoft Sentinel", classification: "TruePositive: SuspiciousActivity",
                    comment: "Password spray from 198.51.100.23; account reset, IP blocked.", at: IntakeFixtures.date("2026-11-30T12:31:40.5510987Z"))
        )
        #expect(closed.fields["entities.Account.upn"] == "alice@example.com")
        #expect(closed.fields["entities.Host.fqdn"] == "vm-web-01.example.com")
        #expect(closed.fields["owner.email"] == "dana.responder@example.com")
        #expect(closed.detection.occurredAt == IntakeFixtures.date("2026-11-30T10:07:14.0871234Z"))
        let created = try IntakeFixtures.decode(SentinelAdapter.self, try IntakeFixtures.body("sentinel/incident.created.json")).get().detections[0]
        #expect(created.resolved == nil)
        #expect(created.detection.evidence?["tactics"] == ["CredentialAccess"])
    }

    /// Sentinel's entities come in no stable order: the playbook re-run with them reordered gives the same subject.
    @Test func sentinelSubjectDoesNotDependOnEntityOrder() throws {
        var body = try #require(JSONValue.parse(try IntakeFixtures.body("sentinel/incident.created.json"))?.objectValue)
        var object = try #require(body["object"]?.objectValue)
        var properties = try #require(object["properties"]?.objectValue)
        var entities = try #require(properties["relatedEntities"]?.arrayValue)
        // A second IP, listed first, that sorts after the first.
        entities.insert(["kind": "Ip", "properties": ["address": "203.0.113.250"]], at: 0)
        properties["relatedEntities"] = .array(entities)
        object["properties"] = .object(properties)
        body["object"] = .object(object)
        let forward = try IntakeFixtures.decode(SentinelAdapter.self, Array(JSONValue.object(body).encoded().utf8)).get()
        properties["relatedEntities"] = .array(entities.reversed())
        object["properties"] = .object(properties)
        body["object"] = .object(object)
        let backward = try IntakeFixtures.decode(SentinelAdapter.self, Array(JSONValue.object(body).encoded().utf8)).get()
        #expect(forward.detections[0].detection.subject == backward.detections[0].detection.subject)
        #expect(forward.detections[0].detection.subject.ip == "198.51.100.23")
        #expect(forward.detections[0].fields == backward.detections[0].fields)
        #expect(forward.detections[0].detection.evidence == backward.detections[0].detection.evidence)
    }

    @Test func splunkResultHashSeparatesRowsOfOneSearch() throws {
        var body = try #require(JSONValue.parse(try IntakeFixtures.body("splunk/webhook.json"))?.objectValue)
        let first = try IntakeFixtures.decode(SplunkAdapter.self, Array(JSONValue.object(body).encoded().utf8)).get().detections[0]
        #expect(first.detection.summary?.hasPrefix("Search result: action=success, dest=vpn-gw-01.example.com") == true)
        #expect(first.fields["result.dest"] == "vpn-gw-01.example.com")
        var result = try #require(body["result"]?.objectValue)
        result["src_ip"] = "203.0.113.46"
        body["result"] = .object(result)
        let second = try IntakeFixtures.decode(SplunkAdapter.self, Array(JSONValue.object(body).encoded().utf8)).get().detections[0]
        #expect(first.detection.id != second.detection.id)
        #expect(first.detection.id.hasPrefix("splunk:\(Self.splunkSID):") && second.detection.id.hasPrefix("splunk:\(Self.splunkSID):"))
        // An ad hoc search has no name.
        body["search_name"] = .null
        let adHoc = try IntakeFixtures.decode(SplunkAdapter.self, Array(JSONValue.object(body).encoded().utf8)).get().detections[0]
        #expect(adHoc.detection.detection == "splunk.ad_hoc")
    }

    @Test func elasticReadsNestedTemplatesAndMultiValuedFields() throws {
        let body =
            #"{"kibana":{"alert":{"uuid":"u-1","rule":{"name":"Port Scan"},"severity":"critical"}},"source.ip":"192.0.2.9, 192.0.2.10","user.name":"","host.name":"db-1","results_link":"https://kibana.example.com/app/security/alerts?x=1"}"#
        let item = try IntakeFixtures.decode(ElasticAdapter.self, Array(body.utf8)).get().detections[0]
        #expect(item.detection.detection == "elastic.port_scan")
        #expect(item.detection.id == "elastic:u-1")
        #expect(item.detection.severity == .critical)
        #expect(item.detection.subject == Subject(ip: "192.0.2.9", host: "db-1"))
        #expect(item.detection.link == "https://kibana.example.com/app/security/alerts?x=1")
        #expect(item.fields["kibana.alert.rule.name"] == "Port Scan")
    }

    @Test func pantherPolicyAlertWithoutAlertIDUsesRuleAndTime() throws {
        let body =
            #"{"id":"AWS.S3.Public","createdAt":"2026-11-30T11:20:43Z","severity":"MEDIUM","type":"POLICY","alertId":null,"title":"S3 bucket is public"}"#
        let item = try IntakeFixtures.decode(PantherAdapter.self, Array(body.utf8)).get().detections[0]
        #expect(item.detection.id == "panther:AWS.S3.Public:2026-11-30T11:20:43Z")
        #expect(item.detection.severity == .medium)
        #expect(item.detection.subject == Subject(rule: "panther.aws.s3.public"))
    }
}
