import Foundation

/// Azure Monitor action groups with the common alert schema (metric, log search and Activity Log alerts, and
/// Sentinel analytics alerts sent through Azure Monitor). Fired and Resolved share `alertId`.
public enum AzureMonitorAdapter: EngineAdapter {
    public static let engine = Engine(id: "azure-monitor", name: "Azure Monitor", detectionPrefix: "azure", credentials: [.bearer, .queryToken])
    public static let fieldRoots = ["essentials.", "dimensions.", "alertContext.", "customProperties.", "claims."]
    public static let schemaID = "azureMonitorCommonAlertSchema"

    /// Dimension names (lower case) read as each subject field, in order of preference.
    static let ipDimensions = [
        "ipaddress", "ip", "clientip", "client_ip", "sourceip", "source_ip", "srcip", "src_ip", "callerip", "calleripaddress", "remoteip", "ipaddr",
    ]
    static let hostDimensions = ["computer", "computername", "hostname", "host", "devicename", "machinename"]
    static let userDimensions = [
        "userprincipalname", "upn", "email", "targetusername", "username", "user", "accountname", "account", "targetaccount", "subjectusername",
    ]

    public static func looksLike(_ body: [String: JSONValue]) -> Bool {
        body["schemaId"]?.stringValue == schemaID || body["data"]?["essentials"]?.objectValue != nil
    }

    public static func decode(_ body: IntakeObject) throws(EngineIntakeError) -> EngineIntake {
        if let schema = try body.optionalString("schemaId"), schema != schemaID {
            throw .invalid(path: "schemaId", reason: "is \(IntakeText.quoted(schema)); turn on the common alert schema in the action group")
        }
        let data = try body.object("data")
        let essentials = try data.object("essentials")
        let alertID = try essentials.string("alertId")
        let rule = try essentials.string("alertRule")
        let condition = try essentials.optionalString("monitorCondition") ?? "Fired"
        guard condition == "Fired" || condition == "Resolved" else {
            throw .invalid(path: essentials.path("monitorCondition"), reason: "must be Fired or Resolved, not \(IntakeText.quoted(condition))")
        }
        let resolved = condition == "Resolved"
        let context = try data.optionalObject("alertContext")
        let criteria = try context?.optionalObject("condition")?.objects("allOf") ?? []

        var fields: [String: String] = [:]
        var evidence: [String: JSONValue] = [:]
        for key in [
            "signalType", "monitoringService", "monitorCondition", "targetResourceGroup", "targetResourceType", "firedDateTime", "resolvedDateTime",
            "originAlertId",
        ] {
            if let text = try essentials.optionalString(key) { evidence[key] = .string(text) }
        }
        for (key, value) in essentials.fields { if let text = IntakeText.scalar(value) { fields["essentials." + key] = text } }
        let items = try essentials.strings("configurationItems")
        if !items.isEmpty {
            evidence["configurationItems"] = .array(items.map(JSONValue.string))
            fields["essentials.configurationItems"] = items[0]
        }

        // Dimensions of every criterion, the first of a name kept.
        var dimensions: [(name: String, value: String)] = []
        var criteriaEvidence: [JSONValue] = []
        for criterion in criteria {
            for dimension in try criterion.objects("dimensions") {
                let name = try dimension.string("name")
                guard let value = try dimension.optionalScalarText("value") else { continue }
                if !dimensions.contains(where: { $0.name == name }) { dimensions.append((name, value)) }
            }
            var shown: [String: JSONValue] = [:]
            for key in ["metricName", "metricNamespace", "operator", "threshold", "timeAggregation", "metricValue", "searchQuery"] {
                if let value = criterion.value(key) { shown[key] = value }
            }
            if !shown.isEmpty { criteriaEvidence.append(.object(shown)) }
        }
        if !dimensions.isEmpty {
            evidence["dimensions"] = .object(Dictionary(dimensions.map { ($0.name, JSONValue.string($0.value)) }) { a, _ in a })
            for (name, value) in dimensions where fields["dimensions." + name] == nil { fields["dimensions." + name] = value }
        }
        if !criteriaEvidence.isEmpty { evidence["condition"] = .array(criteriaEvidence) }

        // Activity Log: who did it, and the caller's token claims (a JSON string; `ipaddr` and `upn` unconfirmed).
        var claims: [String: String] = [:]
        if let context {
            for (key, value) in context.fields { if let text = IntakeText.scalar(value), key != "claims" { fields["alertContext." + key] = text } }
            for key in ["caller", "operationName", "status", "eventSource", "level"] {
                if let text = try context.optionalString(key) { evidence[key] = .string(text) }
            }
            if let scope = try context.optionalObject("authorization")?.optionalString("scope") { evidence["scope"] = .string(scope) }
            if let text = try context.optionalString("claims"), let parsed = JSONValue.parse(Array(text.utf8))?.objectValue {
                // In key order: two claim URIs may end alike, and the first must win every time.
                for key in parsed.keys.sorted() {
                    guard let claim = IntakeText.scalar(parsed[key]!) else { continue }
                    // Long claim URIs by their last segment: `…/claims/upn` is `claims.upn`.
                    let short = key.split(separator: "/").last.map(String.init) ?? key
                    if claims[short] == nil { claims[short] = claim }
                }
                fields.merge(IntakeFields.prefixed(claims, "claims")) { a, _ in a }
            }
        }
        if let custom = data.value("customProperties"), custom.objectValue != nil {
            evidence["customProperties"] = custom
            IntakeFields.flatten(custom, prefix: "customProperties", into: &fields)
        }

        let detectionID = IntakeText.detectionID(engine, rule)
        var draft = SubjectDraft()
        func dimension(_ names: [String]) -> [String] {
            names.compactMap { name in dimensions.first { $0.name.lowercased() == name }?.value }
        }
        for value in dimension(ipDimensions) { draft.ip(value) }
        for value in dimension(hostDimensions) { draft.host(value) }
        for value in dimension(userDimensions) { draft.user(value) }
        draft.user(try context?.optionalString("caller"))
        draft.ip(claims["ipaddr"])
        draft.email(claims["upn"])

        let link =
            try IntakeText.link(essentials.optionalString("investigationLink"))
            ?? criteria.lazy.compactMap {
                try? IntakeText.link($0.optionalString("linkToFilteredSearchResultsUI") ?? $0.optionalString("linkToSearchResultsUI"))
            }.first
        let detection = Detection(
            id: IntakeText.id(engine, [alertID, condition.lowercased()]), detection: detectionID,
            severity: EngineSeverity.map(try essentials.optionalString("severity")),
            title: IntakeText.title(rule), summary: IntakeText.summary(try essentials.optionalString("description")),
            subject: draft.finished(detection: detectionID), evidence: IntakeText.evidence(.object(evidence)),
            occurredAt: try essentials.optionalDate("firedDateTime"), link: link)
        let resolution =
            resolved
            ? EngineResolution(by: engine.name, at: try essentials.optionalDate("resolvedDateTime"))
            : nil
        return EngineIntake(
            engine: engine,
            detections: [
                EngineDetection(
                    detection: detection, engineAlertID: IntakeText.id(engine, [alertID]), resolved: resolution,
                    firingID: resolved ? IntakeText.id(engine, [alertID, "fired"]) : nil, fields: IntakeText.fields(fields))
            ])
    }
}
