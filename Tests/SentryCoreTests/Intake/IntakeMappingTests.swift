import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// The pieces every adapter maps with: subject values, slugs and ids, severities, links, evidence bounds,
/// and a playbook's `subject_from:`.
@Suite struct IntakeMappingTests {
    static let endpoints: [(String, String?, String?)] = [
        ("203.0.113.7:9100", "203.0.113.7", nil),
        ("203.0.113.7", "203.0.113.7", nil),
        ("[2001:db8::1]:9100", "2001:db8::1", nil),
        ("2001:0db8:0000::0001", "2001:db8::1", nil),
        ("node-1.example.com:9100", nil, "node-1.example.com"),
        ("Node-1.Example.COM", nil, "node-1.example.com"),
        ("https://web.example.com:8443/health?x=1", nil, "web.example.com"),
        ("http://user@192.0.2.4:80/", "192.0.2.4", nil),
        ("host:port", nil, nil),
        ("a b", nil, nil),
        ("", nil, nil),
        ("a..b", nil, nil),
    ]

    @Test(arguments: endpoints.indices)
    func endpointLosesItsPort(_ index: Int) {
        let (text, ip, host) = Self.endpoints[index]
        let result = SubjectValue.endpoint(text)
        #expect(result.ip == ip, "\(text)")
        #expect(result.host == host, "\(text)")
    }

    @Test func subjectValuesAreCanonicalAndStable() {
        #expect(SubjectValue.email(" Alice@Example.COM ") == "alice@example.com")
        #expect(SubjectValue.email("alice") == nil)
        #expect(SubjectValue.email("a@b") == nil)
        #expect(SubjectValue.email("a@@b.com") == nil)
        #expect(SubjectValue.email("a b@c.com") == nil)
        #expect(SubjectValue.host("vm-web-01.") == "vm-web-01")
        #expect(SubjectValue.host("-x") == nil)
        #expect(SubjectValue.account("CONTOSO\\alice") == "CONTOSO\\alice")
        #expect(SubjectValue.account("a\nb") == nil)
        #expect(SubjectValue.account(String(repeating: "x", count: 129)) == nil)
        #expect(SubjectValue.user("bob").account == "bob")
        #expect(SubjectValue.user("Bob@Example.com").email == "bob@example.com")
        // Read again, a canonical value is itself.
        for text in ["vm.", "A.B.c", "X@Y.Z", " a\u{2028}", "[::1]:1"] {
            for field in SubjectValue.overridableFields {
                if let once = SubjectValue.normalised(field: field, text) {
                    #expect(SubjectValue.normalised(field: field, once) == once, "\(field) \(text)")
                }
            }
        }
    }

    @Test func slugsArePredictableAndBounded() {
        #expect(IntakeText.slug("InstanceDown") == "instancedown")
        #expect(IntakeText.slug("IR - Brute force then success") == "ir_brute_force_then_success")
        #expect(IntakeText.slug("Okta.BruteForceLogins") == "okta.bruteforcelogins")
        #expect(IntakeText.slug("ir-failed-logons-burst") == "ir-failed-logons-burst")
        #expect(IntakeText.slug("  __Weird***name__ ") == "weird_name")
        let japanese = IntakeText.slug("不正ログイン")
        #expect(japanese.hasPrefix("h") && japanese.count == 13)
        #expect(japanese != IntakeText.slug("別のルール"))
        let long = String(repeating: "abcdefghij", count: 12)
        let cut = IntakeText.slug(long)
        #expect(cut.utf8.count == IntakeText.maxSlugLength)
        #expect(cut != IntakeText.slug(long + "x"))
        #expect(DetectionPattern.isValid(IntakeText.detectionID(AlertmanagerAdapter.engine, long)))
        #expect(IntakeText.detectionID(AlertmanagerAdapter.engine, long).utf8.count <= 100)
    }

    @Test func longIDsKeepTheirStartAndStayDistinct() {
        let part = String(repeating: "x", count: 300)
        let a = IntakeText.id(AzureMonitorAdapter.engine, [part, "fired"])
        let b = IntakeText.id(AzureMonitorAdapter.engine, [part, "resolved"])
        #expect(a.count == Detection.maxIDLength && b.count == Detection.maxIDLength)
        #expect(a != b)
        #expect(a.hasPrefix("azure-monitor:xxx"))
        #expect(IntakeText.id(PantherAdapter.engine, ["abc"]) == "panther:abc")
    }

    @Test func severities() {
        let table: [(String, Severity?)] = [
            ("Sev0", .critical), ("Sev1", .high), ("Sev2", .medium), ("Sev3", .low), ("Sev4", .low),
            ("High", .high), ("Medium", .medium), ("Low", .low), ("Informational", .low),
            ("CRITICAL", .critical), ("HIGH", .high), ("MEDIUM", .medium), ("LOW", .low), ("INFO", .low),
            ("critical", .critical), ("error", .high), ("warning", .medium), ("info", .low),
            ("page", nil), ("", nil), ("Sev5", nil),
        ]
        for (text, severity) in table { #expect(EngineSeverity.map(text) == severity, "\(text)") }
        #expect(EngineSeverity.map(nil) == nil)
    }

    /// ICU traps on a fraction of 35 digits or more; such a time is refused before it gets there.
    @Test func aVeryLongTimeIsNotATimeAndNoTrap() throws {
        let long = "2026-11-30T11:03:49." + String(repeating: "7", count: 60) + "Z"
        #expect(Timestamp.parseISO8601(long) == nil)
        #expect(Timestamp.parseISO8601("2026-11-30T11:03:49.1234567890123456789Z") != nil)
        var body = try #require(JSONValue.parse(try IntakeFixtures.body("elastic/webhook-body.json"))?.objectValue)
        body["date"] = .string(long)
        body["kibana.alert.original_time"] = .string(long)
        let item = try IntakeFixtures.decode(ElasticAdapter.self, Array(JSONValue.object(body).encoded().utf8)).get().detections[0]
        #expect(item.detection.occurredAt == nil)
    }

    @Test func linksAreHTTPOnly() {
        #expect(IntakeText.link("https://grafana.example.com/x?y=1") == "https://grafana.example.com/x?y=1")
        #expect(IntakeText.link("javascript:alert(1)") == nil)
        #expect(IntakeText.link("https:///nohost") == nil)
        #expect(IntakeText.link("https://a.example.com/has space") == nil)
        #expect(IntakeText.link("https://a.example.com/" + String(repeating: "x", count: 3_000)) == nil)
        #expect(IntakeText.link(nil) == nil)
    }

    @Test func evidenceIsBounded() throws {
        let big: JSONValue = .object(
            Dictionary(uniqueKeysWithValues: (0..<100).map { ("key\($0)", JSONValue.string(String(repeating: "v", count: 2_000))) }))
        let evidence = try #require(IntakeText.evidence(["nested": big, "list": .array(Array(repeating: 1, count: 100)), "empty": "", "none": nil]))
        #expect(evidence.encoded().utf8.count <= IntakeText.maxEvidenceBytes)
        #expect(evidence["empty"] == nil && evidence["none"] == nil)
        var deep: JSONValue = "bottom"
        for _ in 0..<20 { deep = ["d": deep] }
        let bounded = try #require(IntakeText.evidence(deep))
        #expect(!bounded.encoded().contains("bottom"))
    }

    // MARK: subject_from

    func instanceDown() throws -> EngineDetection {
        try IntakeFixtures.decode(AlertmanagerAdapter.self, try IntakeFixtures.body("alertmanager/firing.json")).get().detections[0]
    }

    @Test func subjectFromReplacesTheNamedFields() throws {
        var item = try instanceDown()
        item.fields["labels.client"] = "198.51.100.9:5000"
        item.fields["labels.owner"] = "Ops@Example.com"
        let detection = item.applying(subjectFrom: ["ip": "labels.client", "email": "labels.owner", "host": "labels.instance"])
        #expect(detection.subject == Subject(ip: "198.51.100.9", host: "203.0.113.7", email: "ops@example.com"))
        #expect(detection.id == item.detection.id)
        #expect(item.applying(subjectFrom: [:]) == item.detection)
    }

    @Test func subjectFromAbsentInTheBodyLeavesTheFieldEmpty() throws {
        let item = try instanceDown()
        // The adapter's ip came from `instance`; the playbook says the ip is elsewhere, and it is not there.
        let detection = item.applying(subjectFrom: ["ip": "labels.client_ip"])
        #expect(detection.subject == Subject(rule: "alertmanager.instancedown"))
        let invalid = item.applying(subjectFrom: ["ip": "labels.job"])
        #expect(invalid.subject.ip == nil)
    }

    @Test func subjectFromTurnsARuleSubjectIntoARealOne() throws {
        let item = try IntakeFixtures.decode(AlertmanagerAdapter.self, try IntakeFixtures.body("alertmanager/truncated.json")).get().detections[0]
        #expect(item.detection.subject == Subject(rule: "alertmanager.higherrorrate"))
        let detection = item.applying(subjectFrom: ["host": "labels.pod"])
        #expect(detection.subject == Subject(host: "checkout-api-7f9c6d5b8-2xkqz"))
    }
}
