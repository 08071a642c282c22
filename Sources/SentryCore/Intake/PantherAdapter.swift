import Foundation

/// Panther's Custom Webhook destination, its documented schema: `id` is the rule, `alertId` the alert.
/// It names no subject; `alertContext` (what the rule returns, not in the documented schema) may. Fire-only.
public enum PantherAdapter: EngineAdapter {
    public static let engine = Engine(id: "panther", name: "Panther", detectionPrefix: "panther")
    public static let fieldRoots = ["alertContext."]
    static let ipKeys = ["ip", "src_ip", "source_ip", "sourceIPAddress", "client_ip", "ipAddress", "ip_address"]
    static let userKeys = ["actor", "user", "username", "user_name", "userName", "email", "actor_email"]
    static let hostKeys = ["host", "hostname", "host_name"]

    public static func looksLike(_ body: [String: JSONValue]) -> Bool {
        guard body.keys.contains("alertId"), body["severity"]?.stringValue != nil else { return false }
        return body["createdAt"] != nil || body["type"] != nil || body["link"] != nil
    }

    public static func decode(_ body: IntakeObject) throws(EngineIntakeError) -> EngineIntake {
        let ruleID = try body.string("id")
        let createdText = try body.optionalString("createdAt")
        // POLICY alerts may carry no alertId: the rule and the time stand for it.
        let alertKey: [String]
        if let alertID = try body.optionalString("alertId") {
            alertKey = [alertID]
        } else if let createdText {
            alertKey = [ruleID, createdText]
        } else {
            throw .missing(path: "alertId")
        }
        let tags = try body.strings("tags")
        let context = try body.optionalObject("alertContext")
        var fields: [String: String] = [:]
        if let context { IntakeFields.flatten(.object(context.fields), prefix: "alertContext", into: &fields) }

        let detectionID = IntakeText.detectionID(engine, ruleID)
        var draft = SubjectDraft()
        for key in ipKeys { draft.ip(fields["alertContext." + key]) }
        for key in userKeys { draft.user(fields["alertContext." + key]) }
        for key in hostKeys { draft.host(fields["alertContext." + key]) }

        var evidence: [String: JSONValue] = ["rule": .string(ruleID)]
        for key in ["name", "type", "runbook", "version"] { if let text = try body.optionalString(key) { evidence[key] = .string(text) } }
        if !tags.isEmpty { evidence["tags"] = .array(tags.map(JSONValue.string)) }
        if let context { evidence["alertContext"] = .object(context.fields) }

        let detection = Detection(
            id: IntakeText.id(engine, alertKey), detection: detectionID,
            severity: EngineSeverity.map(try body.optionalString("severity")),
            title: IntakeText.title(try body.firstString("title", "name") ?? ruleID),
            summary: IntakeText.summary(try body.optionalString("description")),
            subject: draft.finished(detection: detectionID), evidence: IntakeText.evidence(.object(evidence)),
            occurredAt: createdText.flatMap(Timestamp.parseISO8601),
            link: IntakeText.link(try body.optionalString("link")))
        return EngineIntake(
            engine: engine,
            detections: [
                EngineDetection(detection: detection, engineAlertID: IntakeText.id(engine, alertKey), fields: IntakeText.fields(fields))
            ])
    }
}
