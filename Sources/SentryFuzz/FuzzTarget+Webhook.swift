import SentryCore

extension FuzzTarget {
    /// Detection webhooks: an accepted body meets the documented limits, and writing it back gives it back.
    static let webhook = FuzzTarget(name: "webhook") { bytes in
        guard let detection = try? Detection.decodeWebhook(bytes) else { return }
        FuzzCheck.expect(!detection.id.isEmpty && detection.id.count <= Detection.maxIDLength, "id out of bounds")
        FuzzCheck.expect(
            !detection.detection.isEmpty
                && detection.detection.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 95 || $0 == 45 },
            "detection id \(detection.detection)")
        FuzzCheck.expect(!detection.subject.isEmpty, "no subject")
        if let user = detection.subject.slackUserID { FuzzCheck.expect(SlackID.isUser(user), "subject.slack_user_id \(user)") }
        if let ip = detection.subject.ip {
            FuzzCheck.expect(IPAddress(ip)?.description == ip, "subject.ip \(ip) is not canonical")
        }
        // What IPAddress accepts is an address literal and nothing more.
        if let raw = JSONValue.parse(bytes)?["subject"]?["ip"]?.stringValue {
            let literal = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            FuzzCheck.expect(
                literal.utf8.allSatisfy { ($0 >= 48 && $0 <= 58) || $0 == 46 || ($0 | 0x20 >= 97 && $0 | 0x20 <= 102) },
                "subject.ip accepted from \(raw.debugDescription)")
        }

        var subject: [String: JSONValue] = [:]
        for field in Subject.fieldNames { subject[field] = detection.subject[field: field].map(JSONValue.string) }
        var body: [String: JSONValue] = ["id": .string(detection.id), "detection": .string(detection.detection), "subject": .object(subject)]
        body["severity"] = detection.severity.map { .string($0.rawValue) }
        body["title"] = detection.title.map(JSONValue.string)
        body["summary"] = detection.summary.map(JSONValue.string)
        body["evidence"] = detection.evidence
        // The time as it was sent: the reader's precision is not what is under test here.
        body["occurred_at"] = JSONValue.parse(bytes)?["occurred_at"]
        let again = try? Detection.decodeWebhook(Array(JSONValue.object(body).encoded().utf8))
        FuzzCheck.expect(again == detection, "writing the detection back as a webhook changed it")
    }
}
