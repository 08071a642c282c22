import Foundation
import Testing

@testable import SentryCore

/// `Detection.decodeWebhook`: the body of `POST /hooks/detections` (DESIGN.md §4.4).
@Suite struct CoreDetectionWebhookTests {
    static let designExample = """
        { "id": "engine-unique-id",
          "detection": "slack.max_daily_download",
          "severity": "high",
          "title": "Maximum daily download exceeded",
          "summary": "U024BE7LH downloaded 212 files today",
          "subject": { "slack_user_id": "U024BE7LH", "ip": "203.0.113.7", "meraki_network_id": "N_1", "meraki_serial": "Q2XX-XXXX-XXXX" },
          "evidence": { "any": "json" },
          "occurred_at": "2026-11-22T09:00:00Z" }
        """

    private func decode(_ body: String) -> Result<Detection, DetectionInputError> {
        do throws(DetectionInputError) {
            return .success(try Detection.decodeWebhook(Array(body.utf8)))
        } catch {
            return .failure(error)
        }
    }

    private func error(_ body: String) -> DetectionInputError? {
        if case .failure(let error) = decode(body) { return error }
        return nil
    }

    @Test func designExampleDecodes() throws {
        let detection = try decode(Self.designExample).get()
        #expect(
            detection
                == Detection(
                    id: "engine-unique-id", detection: "slack.max_daily_download", severity: .high,
                    title: "Maximum daily download exceeded", summary: "U024BE7LH downloaded 212 files today",
                    subject: Subject(slackUserID: "U024BE7LH", ip: "203.0.113.7", merakiNetworkID: "N_1", merakiSerial: "Q2XX-XXXX-XXXX"),
                    evidence: ["any": "json"],
                    occurredAt: Date(timeIntervalSince1970: 1_795_338_000)))
    }

    @Test func minimalBodyDecodesWithOptionalFieldsAbsent() throws {
        let detection = try decode(#"{"id":"x1","detection":"custom.rule","subject":{"meraki_serial":"Q2XX-1"}}"#).get()
        #expect(detection.severity == nil)
        #expect(detection.title == nil)
        #expect(detection.evidence == nil)
        #expect(detection.occurredAt == nil)
        #expect(detection.subject == Subject(merakiSerial: "Q2XX-1"))
    }

    @Test func fractionalSecondsAndOffsetsAreRFC3339() throws {
        let withFraction = try decode(#"{"id":"x","detection":"d","subject":{"ip":"10.0.0.1"},"occurred_at":"2026-11-22T09:00:00.250Z"}"#).get()
        #expect(withFraction.occurredAt == Date(timeIntervalSince1970: 1_795_338_000.25))
        let withOffset = try decode(#"{"id":"x","detection":"d","subject":{"ip":"10.0.0.1"},"occurred_at":"2026-11-22T10:00:00+01:00"}"#).get()
        #expect(withOffset.occurredAt == Date(timeIntervalSince1970: 1_795_338_000))
    }

    /// (body, the field the error must name)
    static let badBodies: [(String, String)] = [
        ("not json", ""),
        ("", ""),
        (#"{"id": "x", "#, ""),
        (#"[{"id":"x"}]"#, ""),
        (#""just a string""#, ""),
        (#"{"detection":"d","subject":{"ip":"10.0.0.1"}}"#, "id"),
        (#"{"id":"","detection":"d","subject":{"ip":"10.0.0.1"}}"#, "id"),
        (#"{"id":"   ","detection":"d","subject":{"ip":"10.0.0.1"}}"#, "id"),
        (#"{"id":42,"detection":"d","subject":{"ip":"10.0.0.1"}}"#, "id"),
        (#"{"id":["x"],"detection":"d","subject":{"ip":"10.0.0.1"}}"#, "id"),
        ("{\"id\":\"\(String(repeating: "a", count: 201))\",\"detection\":\"d\",\"subject\":{\"ip\":\"10.0.0.1\"}}", "id"),
        (#"{"id":"x","subject":{"ip":"10.0.0.1"}}"#, "detection"),
        (#"{"id":"x","detection":null,"subject":{"ip":"10.0.0.1"}}"#, "detection"),
        (#"{"id":"x","detection":"Slack.Max","subject":{"ip":"10.0.0.1"}}"#, "detection"),
        (#"{"id":"x","detection":"slack max","subject":{"ip":"10.0.0.1"}}"#, "detection"),
        (#"{"id":"x","detection":"slack/max","subject":{"ip":"10.0.0.1"}}"#, "detection"),
        (#"{"id":"x","detection":"d","severity":"urgent","subject":{"ip":"10.0.0.1"}}"#, "severity"),
        (#"{"id":"x","detection":"d","severity":3,"subject":{"ip":"10.0.0.1"}}"#, "severity"),
        (#"{"id":"x","detection":"d"}"#, "subject"),
        (#"{"id":"x","detection":"d","subject":null}"#, "subject"),
        (#"{"id":"x","detection":"d","subject":{}}"#, "subject"),
        (#"{"id":"x","detection":"d","subject":"U024BE7LH"}"#, "subject"),
        (#"{"id":"x","detection":"d","subject":["U024BE7LH"]}"#, "subject"),
        (#"{"id":"x","detection":"d","subject":{"user":"U024BE7LH"}}"#, "subject.user"),
        (#"{"id":"x","detection":"d","subject":{"ip":"10.0.0.1","hostname":"web1"}}"#, "subject.hostname"),
        (#"{"id":"x","detection":"d","subject":{"slack_user_id":"bob"}}"#, "subject.slack_user_id"),
        (#"{"id":"x","detection":"d","subject":{"slack_user_id":"u024be7lh"}}"#, "subject.slack_user_id"),
        (#"{"id":"x","detection":"d","subject":{"slack_user_id":"C024BE7LH"}}"#, "subject.slack_user_id"),
        (#"{"id":"x","detection":"d","subject":{"slack_user_id":42}}"#, "subject.slack_user_id"),
        (#"{"id":"x","detection":"d","subject":{"ip":"999.1.1.1"}}"#, "subject.ip"),
        (#"{"id":"x","detection":"d","subject":{"ip":"203.0.113.7/24"}}"#, "subject.ip"),
        (#"{"id":"x","detection":"d","subject":{"ip":"::gg"}}"#, "subject.ip"),
        (#"{"id":"x","detection":"d","subject":{"ip":"1.2.3"}}"#, "subject.ip"),
        (#"{"id":"x","detection":"d","subject":{"ip":"example.com"}}"#, "subject.ip"),
        (#"{"id":"x","detection":"d","subject":{"ip":"203.0.113.7:443"}}"#, "subject.ip"),
        (#"{"id":"x","detection":"d","subject":{"ip":""}}"#, "subject.ip"),
        (#"{"id":"x","detection":"d","subject":{"meraki_network_id":""}}"#, "subject.meraki_network_id"),
        (#"{"id":"x","detection":"d","subject":{"ip":"10.0.0.1"},"occurred_at":"yesterday"}"#, "occurred_at"),
        (#"{"id":"x","detection":"d","subject":{"ip":"10.0.0.1"},"occurred_at":"2026-11-22"}"#, "occurred_at"),
        (#"{"id":"x","detection":"d","subject":{"ip":"10.0.0.1"},"occurred_at":1795338000}"#, "occurred_at"),
        ("{\"id\":\"x\",\"detection\":\"d\",\"title\":\"\(String(repeating: "t", count: 251))\",\"subject\":{\"ip\":\"10.0.0.1\"}}", "title"),
        (#"{"id":"x","detection":"d","title":false,"subject":{"ip":"10.0.0.1"}}"#, "title"),
        ("{\"id\":\"x\",\"detection\":\"d\",\"summary\":\"\(String(repeating: "s", count: 2_001))\",\"subject\":{\"ip\":\"10.0.0.1\"}}", "summary"),
        // The webhook fuzz target's property (an address is accepted only from an address literal) on a hand-made
        // input: inet_pton stopped at the NUL and the address was stored as 10.0.0.1.
        (#"{"id":"x","detection":"d","subject":{"ip":"10.0.0.1\u0000evil"}}"#, "subject.ip"),
    ]

    @Test(arguments: badBodies)
    func badBodyNamesTheField(body: String, field: String) throws {
        let failure = try #require(error(body), "accepted: \(body.prefix(120))")
        #expect(failure.field == field, "\(body.prefix(120)) → \(failure)")
        #expect(!failure.reason.isEmpty)
        if !field.isEmpty { #expect(failure.description.hasPrefix(field + ":")) }
    }

    @Test func titleOfExactlyTheLimitIsAccepted() throws {
        let title = String(repeating: "t", count: Detection.maxTitleLength)
        let detection = try decode("{\"id\":\"x\",\"detection\":\"d\",\"title\":\"\(title)\",\"subject\":{\"ip\":\"10.0.0.1\"}}").get()
        #expect(detection.title == title)
    }

    @Test(arguments: [
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("::1", "::1"),
        ("fe80:0000:0000:0000:0202:b3ff:fe1e:8329", "fe80::202:b3ff:fe1e:8329"),
        ("::ffff:203.0.113.7", "::ffff:203.0.113.7"),
        ("203.0.113.7", "203.0.113.7"),
        (" 198.51.100.20 ", "198.51.100.20"),
    ])
    func addressesAreAcceptedInCanonicalForm(given: String, canonical: String) throws {
        let detection = try decode("{\"id\":\"x\",\"detection\":\"d\",\"subject\":{\"ip\":\"\(given)\"}}").get()
        #expect(detection.subject.ip == canonical)
    }

    @Test func differentSpellingsOfOneAddressGroupTogether() throws {
        let upper = try decode(#"{"id":"a","detection":"d","subject":{"ip":"2001:DB8::0:1"}}"#).get()
        let lower = try decode(#"{"id":"b","detection":"d","subject":{"ip":"2001:db8::1"}}"#).get()
        #expect(
            Alert.groupKey(detection: upper.detection, subject: upper.subject)
                == Alert.groupKey(detection: lower.detection, subject: lower.subject))
    }

    @Test func evidenceIsKeptAsAnyJSON() throws {
        let detection = try decode(#"{"id":"x","detection":"d","subject":{"ip":"10.0.0.1"},"evidence":[1,"two",{"three":null},true]}"#).get()
        #expect(detection.evidence == [1, "two", ["three": nil], true])
    }
}
