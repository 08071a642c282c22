import Foundation

/// A Microsoft Sentinel incident as an automation rule's playbook (Logic App) forwards it with
/// `@{triggerBody()}`: created, updated, and closed with a classification.
public enum SentinelAdapter: EngineAdapter {
    public static let engine = Engine(id: "sentinel", name: "Microsoft Sentinel", detectionPrefix: "sentinel")
    public static let fieldRoots = ["entities.", "owner.", "incident."]

    public static func looksLike(_ body: [String: JSONValue]) -> Bool {
        guard let object = body["object"]?.objectValue, object["properties"]?.objectValue != nil else { return false }
        return body["objectSchemaType"]?.stringValue == "Incident" || body["workspaceInfo"] != nil
            || object["type"]?.stringValue?.lowercased() == "microsoft.securityinsights/incidents"
    }

    public static func decode(_ body: IntakeObject) throws(EngineIntakeError) -> EngineIntake {
        let incident = try body.object("object")
        let name = try incident.string("name")
        let properties = try incident.object("properties")
        let title = try properties.string("title")
        let status = try properties.optionalString("status") ?? "New"
        let closed = status.lowercased() == "closed"

        // Entities come in no stable order: each kind's values are sorted, so a re-run gives the same subject.
        var accounts: [(name: String, upn: String?)] = []
        var ips: [String] = []
        var hosts: [String] = []
        var mailboxes: [String] = []
        var fields: [String: String] = [:]
        var shownEntities: [JSONValue] = []
        var byKind: [String: [(label: String, properties: IntakeObject)]] = [:]
        for entity in try properties.objects("relatedEntities") {
            let kind = try entity.optionalString("kind") ?? ""
            guard let props = try entity.optionalObject("properties") else { continue }
            switch kind.lowercased() {
            case "account":
                if let account = try props.optionalString("accountName") {
                    accounts.append((account, try props.optionalString("upnSuffix").map { account + "@" + $0 }))
                }
            case "ip":
                if let address = try props.optionalString("address") { ips.append(address) }
            case "host":
                if let host = try props.optionalString("hostName") {
                    hosts.append(try props.optionalString("dnsDomain").map { host + "." + $0 } ?? host)
                }
            case "mailbox":
                if let address = try props.optionalString("mailboxPrimaryAddress") { mailboxes.append(address) }
            default:
                break
            }
            let label = try props.firstScalarText("friendlyName", "address", "accountName")
            if let label, !kind.isEmpty { shownEntities.append(["kind": .string(kind), "name": .string(label)]) }
            if !kind.isEmpty { byKind[kind, default: []].append((label ?? "", props)) }
        }
        // `entities.<Kind>.<property>` of the first entity of each kind, by name.
        for (kind, entities) in byKind {
            let ordered = entities.map { ($0.label, JSONValue.object($0.properties.fields).encoded(), $0.properties) }
            guard let first = ordered.min(by: { ($0.0, $0.1) < ($1.0, $1.1) })?.2 else { continue }
            for (key, value) in first.fields {
                if let text = IntakeText.scalar(value) { fields["entities.\(kind).\(key)"] = text }
            }
        }
        accounts.sort { ($0.name, $0.upn ?? "") < ($1.name, $1.upn ?? "") }
        if let account = accounts.first {
            if let upn = account.upn { fields["entities.Account.upn"] = upn }
        }
        let canonicalHosts = hosts.compactMap(SubjectValue.host).sorted()
        if let host = canonicalHosts.first { fields["entities.Host.fqdn"] = host }
        if let owner = try properties.optionalObject("owner") {
            for (key, value) in owner.fields { if let text = IntakeText.scalar(value) { fields["owner." + key] = text } }
        }
        for key in ["title", "status", "severity", "classification", "incidentNumber", "providerName", "providerIncidentId"] {
            if let text = try? properties.optionalScalarText(key) { fields["incident." + key] = text }
        }

        let detectionID = IntakeText.detectionID(engine, title)
        var draft = SubjectDraft()
        for ip in ips.compactMap(SubjectValue.ip).sorted() { draft.ip(ip) }
        for host in canonicalHosts { draft.host(host) }
        if let account = accounts.first {
            draft.user(account.name)
            draft.email(account.upn)
        }
        for mailbox in mailboxes.compactMap(SubjectValue.email).sorted() { draft.email(mailbox) }

        var evidence: [String: JSONValue] = [:]
        for key in [
            "incidentNumber", "status", "classification", "classificationReason", "classificationComment", "providerName", "firstActivityTimeUtc",
            "lastActivityTimeUtc",
        ] {
            if let value = properties.value(key) { evidence[key] = value }
        }
        if let owner = try properties.optionalObject("owner"), let who = try owner.firstString("assignedTo", "userPrincipalName") {
            evidence["owner"] = .string(who)
        }
        if let extra = try properties.optionalObject("additionalData") {
            for key in ["tactics", "techniques", "alertProductNames"] {
                if let value = extra.value(key) { evidence[key] = value }
            }
        }
        var alertNames: [String] = []
        for alert in try properties.objects("alerts") {
            if let name = try alert.optionalObject("properties")?.optionalString("alertDisplayName") { alertNames.append(name) }
        }
        if !alertNames.isEmpty { evidence["alerts"] = .array(alertNames.map(JSONValue.string)) }
        if !shownEntities.isEmpty {
            evidence["entities"] = .array(shownEntities.sorted { $0.encoded() < $1.encoded() })
        }

        var resolution: EngineResolution?
        if closed {
            let classification = try properties.optionalString("classification")
            let reason = try properties.optionalString("classificationReason")
            resolution = EngineResolution(
                by: engine.name, classification: [classification, reason].compactMap { $0 }.joined(separator: ": ").nilIfEmpty,
                comment: IntakeText.summary(try properties.optionalString("classificationComment")),
                at: try properties.optionalDate("lastModifiedTimeUtc"))
        }
        let detection = Detection(
            id: IntakeText.id(engine, closed ? [name, "closed"] : [name]), detection: detectionID,
            severity: EngineSeverity.map(try properties.optionalString("severity")),
            title: IntakeText.title(title), summary: IntakeText.summary(try properties.optionalString("description")),
            subject: draft.finished(detection: detectionID), evidence: IntakeText.evidence(.object(evidence)),
            occurredAt: try properties.firstDate("createdTimeUtc", "firstActivityTimeUtc"),
            link: IntakeText.link(try properties.optionalString("incidentUrl")))
        return EngineIntake(
            engine: engine,
            detections: [
                EngineDetection(
                    detection: detection, engineAlertID: IntakeText.id(engine, [name]), resolved: resolution,
                    firingID: closed ? IntakeText.id(engine, [name]) : nil, fields: IntakeText.fields(fields))
            ])
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
