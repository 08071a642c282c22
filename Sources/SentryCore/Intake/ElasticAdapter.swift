import Foundation

/// Elastic Security rule actions through a Kibana `.webhook` connector, rendered from the README's template
/// (one alert per body, "For each alert"). Keys are dotted (`kibana.alert.uuid`); a template that nests them
/// (`{"kibana": {"alert": {…}}}`) is read too. Missing ECS fields render as `""`. Fire-only.
public enum ElasticAdapter: EngineAdapter {
    public static let engine = Engine(id: "elastic", name: "Elastic Security", detectionPrefix: "elastic")
    public static let fieldRoots = [""]

    public static func looksLike(_ body: [String: JSONValue]) -> Bool {
        body["engine"]?.stringValue == "elastic-security" || body.keys.contains { $0.hasPrefix("kibana.alert.") }
            || body["kibana"]?["alert"]?.objectValue != nil
    }

    public static func decode(_ body: IntakeObject) throws(EngineIntakeError) -> EngineIntake {
        let uuid = try required(body, "kibana.alert.uuid")
        let rule = try required(body, "kibana.alert.rule.name")
        let detectionID = IntakeText.detectionID(engine, rule)

        // Multi-valued fields arrive comma-joined: the first value stands for the field.
        func first(_ path: String) throws(EngineIntakeError) -> String? {
            try text(body, path)?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var draft = SubjectDraft()
        draft.ip(try first("source.ip"))
        draft.ip(try first("client.ip"))
        draft.host(try first("host.name"))
        draft.email(try first("user.email"))
        draft.user(try first("user.name"))

        var fields: [String: String] = [:]
        IntakeFields.flatten(.object(body.fields), prefix: "", into: &fields)
        var evidence = body.fields
        for key in ["engine", "kibana.alert.rule.name", "kibana.alert.reason", "results_link", "alert_id"] { evidence[key] = nil }

        let occurred = try text(body, "kibana.alert.original_time").flatMap(Timestamp.parseISO8601)
        let sent = try text(body, "date").flatMap(Timestamp.parseISO8601)
        let resultsLink = try IntakeText.link(text(body, "results_link"))
        let alertLink = try IntakeText.link(text(body, "kibana.alert.url"))
        let detection = Detection(
            id: IntakeText.id(engine, [uuid]), detection: detectionID,
            severity: EngineSeverity.map(try text(body, "kibana.alert.severity")),
            title: IntakeText.title(rule), summary: IntakeText.summary(try text(body, "kibana.alert.reason")),
            subject: draft.finished(detection: detectionID), evidence: IntakeText.evidence(.object(evidence)),
            occurredAt: occurred ?? sent, link: resultsLink ?? alertLink)
        return EngineIntake(
            engine: engine,
            detections: [
                EngineDetection(detection: detection, engineAlertID: IntakeText.id(engine, [uuid]), fields: IntakeText.fields(fields))
            ])
    }

    static func required(_ body: IntakeObject, _ path: String) throws(EngineIntakeError) -> String {
        guard let value = try text(body, path) else { throw .missing(path: path) }
        return value
    }

    /// The value at a dotted key, or at the nested path it names; nil when absent or blank.
    static func text(_ body: IntakeObject, _ path: String) throws(EngineIntakeError) -> String? {
        if body.value(path) != nil { return try body.optionalScalarText(path) }
        var object = body
        let parts = path.split(separator: ".").map(String.init)
        for part in parts.dropLast() {
            guard case .object(let fields)? = object.value(part) else { return nil }
            object = IntakeObject(fields, path: object.path(part))
        }
        return try object.optionalScalarText(parts.last ?? path)
    }
}
