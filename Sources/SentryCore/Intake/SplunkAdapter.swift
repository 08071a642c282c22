import Foundation

/// Splunk's built-in webhook alert action: the search's first result row (all values text), its `sid` and a
/// link to the results. Fire-only.
public enum SplunkAdapter: EngineAdapter {
    public static let engine = Engine(id: "splunk", name: "Splunk", detectionPrefix: "splunk", credentials: [.bearer, .queryToken])
    public static let fieldRoots = ["result."]
    /// The detection-id part of an ad hoc search, which has no `search_name`.
    public static let adHoc = "ad_hoc"
    /// Result fields shown in the summary at most.
    static let summaryFields = 8

    public static func looksLike(_ body: [String: JSONValue]) -> Bool {
        body["sid"]?.stringValue != nil && (body["result"] != nil || body["results_link"] != nil || body["search_name"] != nil)
    }

    public static func decode(_ body: IntakeObject) throws(EngineIntakeError) -> EngineIntake {
        let sid = try body.string("sid")
        let searchName = try body.optionalString("search_name")
        let result = try body.optionalObject("result")
        // Values are text; a multivalue field may come as a list (unconfirmed): its first value stands for it.
        var row: [String: String] = [:]
        for key in (result?.fields ?? [:]).keys.sorted() {
            let value = result!.fields[key]!
            if let text = IntakeText.scalar(value) {
                row[key] = text
            } else if case .array(let items) = value, let first = items.first.flatMap(IntakeText.scalar) {
                row[key] = first
            } else if value != .null {
                throw .wrongType(path: "result.\(key)", expected: "a string")
            }
        }

        let detectionID = IntakeText.detectionID(engine, searchName ?? adHoc)
        var draft = SubjectDraft()
        for key in ["src_ip", "src", "ip", "client_ip", "clientip"] { draft.ip(row[key]) }
        for key in ["user", "src_user", "email", "user_email"] { draft.user(row[key]) }

        let resultHash = IntakeText.shortHash((result.map { JSONValue.object($0.fields) } ?? .null).encoded())
        var evidence: [String: JSONValue] = [:]
        if let result { evidence["result"] = .object(result.fields) }
        for key in ["app", "owner"] { if let text = try body.optionalString(key) { evidence[key] = .string(text) } }
        evidence["sid"] = .string(sid)
        let shown = row.keys.sorted().filter { !(row[$0] ?? "").isEmpty }.prefix(summaryFields).map { "\($0)=\(row[$0]!)" }
        let summary = shown.isEmpty ? nil : "Search result: " + shown.joined(separator: ", ") + (row.count > summaryFields ? ", …" : "")

        let detection = Detection(
            id: IntakeText.id(engine, [sid, resultHash]), detection: detectionID,
            severity: EngineSeverity.map(row["severity"] ?? row["urgency"]),
            title: IntakeText.title(searchName ?? "Splunk ad hoc search"), summary: IntakeText.summary(summary),
            subject: draft.finished(detection: detectionID), evidence: IntakeText.evidence(.object(evidence)),
            link: IntakeText.link(try body.optionalString("results_link")))
        return EngineIntake(
            engine: engine,
            detections: [
                EngineDetection(
                    detection: detection, engineAlertID: IntakeText.id(engine, [sid, resultHash]),
                    fields: IntakeText.fields(IntakeFields.prefixed(row, "result")))
            ])
    }
}
