import Foundation
import SentryTestSupport
import SentryTesting
import Testing

@testable import SentryCore

/// Engine detections as Slack alerts: the new subject fields, the link button back to the engine, and alerts
/// stored before these fields existed.
@Suite struct IntakeAlertMessageTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_338_000)

    static func alert(_ sample: String, adapter: any EngineAdapter.Type) throws -> Alert {
        let detection = try IntakeFixtures.decode(adapter, try IntakeFixtures.body(sample)).get().detections[0].detection
        let playbook = Playbook(id: "engine", title: "Engine", detection: "\(adapter.engine.detectionPrefix).*", severity: .medium)
        return try #require(
            AlertMachine.handle(nil, .detectionReceived(detection, playbook: playbook, channel: "C0SECALERTS"), alertID: "A-1", now: t0).alert)
    }

    static func buttons(_ blocks: JSONValue) -> [JSONValue] {
        (blocks.arrayValue ?? []).filter { $0["type"] == "actions" }.flatMap { $0["elements"]?.arrayValue ?? [] }
    }

    static func fieldTexts(_ blocks: JSONValue) -> [String] {
        (blocks.arrayValue ?? []).flatMap { $0["fields"]?.arrayValue ?? [] }.compactMap { $0["text"]?.stringValue }
    }

    @Test func sentinelIncidentShowsItsSubjectAndALinkButton() throws {
        let alert = try Self.alert("sentinel/incident.created.json", adapter: SentinelAdapter.self)
        #expect(alert.link == IntakeSampleTests.sentinelURL)
        let rendered = AlertMessage.render(alert)
        let fields = Self.fieldTexts(rendered.blocks)
        #expect(fields.contains("*IP address*\n`198.51.100.23`"))
        #expect(fields.contains("*Host*\n`vm-web-01.example.com`"))
        #expect(fields.contains("*Email*\n`alice@example.com`"))
        #expect(fields.contains("*Account*\n`alice`"))
        let link = try #require(Self.buttons(rendered.blocks).first { $0["action_id"]?.stringValue == AlertMessage.linkActionID })
        #expect(link["url"]?.stringValue == IntakeSampleTests.sentinelURL)
        #expect(link["text"]?["text"] == "Open in Microsoft Sentinel")
        #expect(BlockKitCheck.problem(rendered.blocks) == nil)
        #expect(CoreAlertMessageTests.limitProblems(rendered.blocks) == [])
        // A finished alert keeps its link, and only that.
        var resolved = alert
        resolved.status = .resolved
        resolved.closedBy = "U0ALICE"
        resolved.closedAt = Self.t0
        let after = Self.buttons(AlertMessage.render(resolved).blocks)
        #expect(after.map { $0["action_id"]?.stringValue } == [AlertMessage.linkActionID])
        #expect(Self.buttons(AlertMessage.renderMinimal(alert).blocks).contains { $0["action_id"]?.stringValue == AlertMessage.linkActionID })
    }

    @Test func ruleSubjectIsShownAndNoLinkMeansNoButton() throws {
        var alert = try Self.alert("panther/alert.json", adapter: PantherAdapter.self)
        #expect(Self.fieldTexts(AlertMessage.render(alert).blocks).contains("*Rule*\n`panther.okta.bruteforcelogins`"))
        alert.link = nil
        #expect(!Self.buttons(AlertMessage.render(alert).blocks).contains { $0["action_id"]?.stringValue == AlertMessage.linkActionID })
        alert.link = "javascript:alert(1)"
        #expect(!Self.buttons(AlertMessage.render(alert).blocks).contains { $0["action_id"]?.stringValue == AlertMessage.linkActionID })
    }

    @Test func everySubjectFieldAtOnceStillShowsTheCountsAndTheID() throws {
        var alert = try Self.alert("sentinel/incident.created.json", adapter: SentinelAdapter.self)
        alert.subject = Subject(
            slackUserID: "U024BE7LH", ip: "203.0.113.7", merakiNetworkID: "N_1", merakiSerial: "Q2XX-1", host: "h", email: "a@b.co",
            account: "a`b", rule: "x.y")
        let fields = Self.fieldTexts(AlertMessage.render(alert).blocks)
        #expect(fields.count == AlertMessage.Limits.fields)
        #expect(fields.contains { $0.hasPrefix("*Seen*") } && fields.contains { $0.hasPrefix("*Alert*") })
        #expect(!fields.joined().contains("a`b"))
    }

    /// Alerts, detections and subjects stored before `link`, `host`, `email`, `account` and `rule` still decode.
    @Test func storedValuesWithoutTheNewFieldsDecode() throws {
        let alert = try Self.alert("alertmanager/firing.json", adapter: AlertmanagerAdapter.self)
        var object = try #require(JSONValue.parse(Array(try JSONEncoder().encode(alert)))?.objectValue)
        #expect(object["link"] != nil)
        object["link"] = nil
        let old = try JSONDecoder().decode(Alert.self, from: Data(JSONValue.object(object).encoded().utf8))
        #expect(old.link == nil)
        #expect(old.subject == alert.subject)
        let subject = try JSONDecoder().decode(Subject.self, from: Data(#"{"ip":"10.0.0.1","slack_user_id":"U1"}"#.utf8))
        #expect(subject == Subject(slackUserID: "U1", ip: "10.0.0.1"))
        #expect(subject.key == "slack_user_id=U1;ip=10.0.0.1")
        let detection = try JSONDecoder().decode(Detection.self, from: Data(#"{"id":"x","detection":"d","subject":{"ip":"10.0.0.1"}}"#.utf8))
        #expect(detection.link == nil)
    }

    @Test func newSubjectFieldsComeLastInTheGroupingKey() {
        #expect(
            Subject(ip: "10.0.0.1", host: "h", email: "e@x.io", account: "a", rule: "r.x").key == "ip=10.0.0.1;host=h;email=e@x.io;account=a;rule=r.x"
        )
    }
}
