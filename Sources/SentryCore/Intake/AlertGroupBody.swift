import Foundation

/// The group body Alertmanager's webhook and Grafana's contact point share: `alerts[]` with `labels`,
/// `annotations`, `status`, `startsAt`, `fingerprint`, under a `groupKey`.
enum AlertGroupBody {
    /// Keys only Grafana writes; an Alertmanager body has none of them.
    static let grafanaKeys = ["orgId", "state", "title", "message"]
    static let grafanaAlertKeys = ["silenceURL", "dashboardURL", "panelURL", "ruleUID", "values", "valueString", "imageURL"]

    static func hasGroupShape(_ body: [String: JSONValue]) -> Bool {
        body["alerts"]?.arrayValue != nil && (body["groupKey"]?.stringValue != nil || body["receiver"]?.stringValue != nil)
    }

    static func isGrafana(_ body: [String: JSONValue]) -> Bool {
        if body["version"]?.stringValue == "1" || grafanaKeys.contains(where: { body[$0] != nil }) { return true }
        let alerts = body["alerts"]?.arrayValue ?? []
        return alerts.contains { alert in grafanaAlertKeys.contains { alert[$0] != nil } }
    }

    /// One detection per alert of the group, in the body's order. `extra` adds what one engine sends beyond the
    /// shared fields, to an alert's evidence and fields.
    static func decode(
        _ body: IntakeObject, engine: Engine,
        extra: (IntakeObject, inout [String: JSONValue], inout [String: String]) throws(EngineIntakeError) -> Void
    ) throws(EngineIntakeError) -> EngineIntake {
        let groupKey = try body.string("groupKey")
        let receiver = try body.optionalString("receiver")
        var truncated = 0
        if let count = try body.optionalNumber("truncatedAlerts") {
            guard count >= 0, count <= 1e9, count.rounded() == count else {
                throw .invalid(path: body.path("truncatedAlerts"), reason: "must be a whole number, 0 or more")
            }
            truncated = Int(count)
        }
        let alerts = try body.objects("alerts", required: true)
        guard !alerts.isEmpty else { throw .invalid(path: body.path("alerts"), reason: "is empty") }
        var detections: [EngineDetection] = []
        for alert in alerts {
            detections.append(try detection(alert, engine: engine, truncated: truncated, extra: extra))
        }
        return EngineIntake(
            engine: engine, detections: detections,
            group: EngineGroup(key: groupKey, receiver: receiver, truncatedAlerts: truncated))
    }

    static func detection(
        _ alert: IntakeObject, engine: Engine, truncated: Int,
        extra: (IntakeObject, inout [String: JSONValue], inout [String: String]) throws(EngineIntakeError) -> Void
    ) throws(EngineIntakeError) -> EngineDetection {
        guard alert.value("labels") != nil else { throw .missing(path: alert.path("labels")) }
        let labels = try alert.stringMap("labels")
        let labelsPath = alert.path("labels")
        guard let alertname = labels["alertname"]?.trimmedOfWhitespace, !alertname.isEmpty else {
            throw .missing(path: labelsPath + ".alertname")
        }
        let annotations = try alert.stringMap("annotations")
        let status = try alert.string("status")
        guard status == "firing" || status == "resolved" else {
            throw .invalid(path: alert.path("status"), reason: "must be firing or resolved, not \(IntakeText.quoted(status))")
        }
        let fingerprint = try alert.string("fingerprint")
        let startsAtText = try alert.string("startsAt")
        let startsAt = try alert.optionalDate("startsAt")
        let endsAt = try status == "resolved" ? alert.optionalDate("endsAt") : nil
        let generatorURL = try alert.optionalString("generatorURL")

        let detectionID = IntakeText.detectionID(engine, alertname)
        var draft = SubjectDraft()
        draft.ip(labels["ip"])
        draft.endpoint(labels["instance"])
        draft.host(labels["host"])
        draft.host(labels["hostname"])
        draft.email(labels["email"])
        draft.user(labels["user"])

        var evidence: [String: JSONValue] = ["labels": .object(labels.mapValues(JSONValue.string))]
        let shown = annotations.filter { $0.key != "summary" && $0.key != "description" }
        if !shown.isEmpty { evidence["annotations"] = .object(shown.mapValues(JSONValue.string)) }
        evidence["startsAt"] = .string(startsAtText)
        if status == "resolved", let ends = try alert.optionalString("endsAt") { evidence["endsAt"] = .string(ends) }
        if truncated > 0 { evidence["truncatedAlerts"] = .number(Double(truncated)) }
        var fields = IntakeFields.prefixed(labels, "labels").merging(IntakeFields.prefixed(annotations, "annotations")) { a, _ in a }
        try extra(alert, &evidence, &fields)

        // The same alert fires again later with another `startsAt`: that is another occurrence.
        let firing = [fingerprint, startsAtText]
        let parts = status == "resolved" ? firing + ["resolved"] : firing
        let detection = Detection(
            id: IntakeText.id(engine, parts), detection: detectionID,
            severity: EngineSeverity.map(labels["severity"]),
            title: IntakeText.title(alertname),
            summary: IntakeText.summary(annotations["summary"] ?? annotations["description"] ?? annotations["message"]),
            subject: draft.finished(detection: detectionID),
            evidence: IntakeText.evidence(.object(evidence)), occurredAt: startsAt,
            link: IntakeText.link(generatorURL))
        return EngineDetection(
            detection: detection, engineAlertID: IntakeText.id(engine, [fingerprint]),
            resolved: status == "resolved" ? EngineResolution(by: engine.name, at: endsAt) : nil,
            firingID: status == "resolved" ? IntakeText.id(engine, firing) : nil,
            fields: IntakeText.fields(fields))
    }
}
