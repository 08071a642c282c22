import Foundation

/// Renders an alert as a Slack message: a fallback `text` and Block Kit `blocks` within Slack's limits.
public enum AlertMessage {
    /// Block Kit limits this renderer keeps to.
    public enum Limits {
        public static let blocks = 50
        public static let sectionText = 3_000
        public static let headerText = 150
        public static let fieldText = 2_000
        public static let fields = 10
        public static let buttonText = 75
        public static let contextElementText = 2_000
        public static let messageText = 4_000
    }

    public static func render(_ alert: Alert) -> (text: String, blocks: JSONValue) {
        var blocks: [JSONValue] = []
        blocks.append([
            "type": "header",
            "text": ["type": "plain_text", "text": .string(truncate("\(alert.severity.emoji) \(alert.title)", Limits.headerText)), "emoji": true],
        ])
        if let summary = alert.summary, !summary.isEmpty {
            blocks.append(section(escape(summary)))
        }
        var fields: [String] = [
            "*Severity*\n\(alert.severity.rawValue.capitalized)",
            "*Status*\n\(statusLine(alert))",
        ]
        // Subject fields between status and the counts; the counts and the alert id always fit.
        fields += subjectFields(alert.subject).prefix(Limits.fields - 4)
        let times = alert.occurrences == 1 ? "once" : "\(alert.occurrences) times"
        fields.append("*Seen*\n\(times), last \(SlackDate.format(alert.lastOccurredAt))")
        fields.append("*Alert*\n`\(alert.id)`")
        blocks.append([
            "type": "section",
            "fields": .array(fields.prefix(Limits.fields).map { ["type": "mrkdwn", "text": .string(truncate($0, Limits.fieldText))] }),
        ])
        if let evidence = alert.evidence, evidence != .null {
            let budget = Limits.sectionText - 20
            blocks.append(section("*Evidence*\n```" + truncate(prettyEvidence(evidence), budget) + "```"))
        }
        if let asked = ConfirmationMessage.statusLine(alert) { blocks.append(section(asked)) }
        var context = "Playbook `\(alert.playbookID)` · detection `\(alert.detection)` · opened \(SlackDate.format(alert.createdAt))"
        if alert.escalations > 0 { context += " · escalated \(alert.escalations)×" }
        if let failure = alert.postFailure { context += " · last Slack error: \(escape(failure))" }
        context += engineNotes(alert)
        if let snooze = alert.snooze, !alert.status.isFinished {
            let since = snooze.suppressed == 0 ? "" : ", \(snooze.suppressed) detection\(snooze.suppressed == 1 ? "" : "s") since"
            context += " · :zzz: snoozed until \(SlackDate.format(snooze.until)) by \(SlackID.mention(snooze.by))\(since)"
        }
        blocks.append(["type": "context", "elements": [["type": "mrkdwn", "text": .string(truncate(context, Limits.contextElementText))]]])
        blocks += containmentBlocks(alert)
        if let actions = actionsBlock(alert) { blocks.append(actions) }
        let text = truncate("\(alert.severity.rawValue.uppercased()) \(escape(alert.title)) — \(alert.status.rawValue)", Limits.messageText)
        return (text, .array(blocks))
    }

    /// The smallest message that still lets a responder act: the title as plain text, the alert id, the buttons.
    /// Sent when Slack refuses the full rendering, so a rendering bug never costs an alert.
    public static func renderMinimal(_ alert: Alert) -> (text: String, blocks: JSONValue) {
        let line = "\(alert.severity.emoji) \(alert.title) — \(alert.status.rawValue) (alert \(alert.id))"
        var blocks: [JSONValue] = [
            ["type": "section", "text": ["type": "plain_text", "text": .string(truncate(line, Limits.sectionText)), "emoji": true]]
        ]
        // Containments that still need a decision keep their buttons, each under one plain line.
        for item in alert.containments.filter({ !$0.status.isFinal }).suffix(shownContainments) {
            guard let actions = containmentActions(item) else { continue }
            let state = "\(item.label): \(item.status.rawValue.replacingOccurrences(of: "_", with: " ")) (\(item.id))"
            blocks.append(["type": "section", "text": ["type": "plain_text", "text": .string(truncate(state, Limits.sectionText)), "emoji": false]])
            blocks.append(actions)
        }
        if let actions = actionsBlock(alert) { blocks.append(actions) }
        let text = truncate("\(alert.severity.rawValue.uppercased()) \(escape(alert.title)) — \(alert.status.rawValue)", Limits.messageText)
        return (text, .array(blocks))
    }

    /// One field per subject field present, in the subject's order.
    static func subjectFields(_ subject: Subject) -> [String] {
        var fields: [String] = []
        if let user = subject.slackUserID { fields.append("*User*\n\(SlackID.mention(user))") }
        if let ip = subject.ip { fields.append("*IP address*\n`\(ip)`") }
        if let network = subject.merakiNetworkID { fields.append("*Meraki network*\n`\(escape(network))`") }
        if let serial = subject.merakiSerial { fields.append("*Meraki device*\n`\(escape(serial))`") }
        if let host = subject.host { fields.append("*Host*\n\(code(host))") }
        if let email = subject.email { fields.append("*Email*\n\(code(email))") }
        if let account = subject.account { fields.append("*Account*\n\(code(account))") }
        if let rule = subject.rule { fields.append("*Rule*\n\(code(rule))") }
        return fields
    }

    /// Engine text in a code span: escaped, and no backtick left to end the span early.
    static func code(_ text: String) -> String {
        "`" + escape(text).replacingOccurrences(of: "`", with: "'") + "`"
    }

    /// The `action_id` of the link button back to the engine. Slack sends a click on a URL button to the
    /// interactivity endpoint too; it changes nothing and must be answered with a bare 200.
    public static let linkActionID = "open_link"

    /// "Open in Alertmanager", a URL button, when the alert has a link.
    static func linkButton(_ alert: Alert) -> JSONValue? {
        guard let link = alert.link.flatMap(IntakeText.link) else { return nil }
        let name = EngineRegistry.adapter(forDetection: alert.detection)?.engine.name ?? "source"
        return [
            "type": "button", "action_id": .string(linkActionID), "url": .string(link),
            "text": ["type": "plain_text", "text": .string(truncate("Open in \(name)", Limits.buttonText)), "emoji": true],
        ]
    }

    /// The alert's own buttons while it is not finished; after that, only its link back to the engine.
    static func actionsBlock(_ alert: Alert) -> JSONValue? {
        guard !alert.status.isFinished else {
            guard let link = linkButton(alert) else { return nil }
            return ["type": "actions", "block_id": "alert_link", "elements": [link]]
        }
        var buttons: [JSONValue] = []
        if alert.status == .open { buttons.append(button("Acknowledge", "ack", alert.id, style: "primary")) }
        buttons.append(button("Resolve", "resolve", alert.id))
        buttons.append(button("Dismiss", "dismiss", alert.id))
        buttons.append(alert.snooze == nil ? button("Snooze…", "snooze", alert.id) : button("Unsnooze", "unsnooze", alert.id))
        let offered = Set(alert.policy.actions.map(\.kind))
        if offered.contains(.blockUser), alert.subject.slackUserID != nil {
            buttons.append(button("Block user…", "block_user", alert.id, style: "danger"))
        }
        if offered.contains(.blockIP), alert.subject.ip != nil {
            buttons.append(button("Block IP…", "block_ip", alert.id, style: "danger"))
        }
        if offered.contains(.approvedOnly), alert.isCellularFailover {
            buttons.append(button("Approved devices only…", "approved_only", alert.id, style: "danger"))
        }
        if let link = linkButton(alert) { buttons.append(link) }
        return ["type": "actions", "block_id": "alert_actions", "elements": .array(buttons)]
    }

    /// Shown containments at most; older finished ones are summarised.
    static let shownContainments = 8

    /// A section per containment (newest last) with the buttons its state allows.
    static func containmentBlocks(_ alert: Alert) -> [JSONValue] {
        guard !alert.containments.isEmpty else { return [] }
        var blocks: [JSONValue] = []
        let live = alert.containments.filter { !$0.status.isFinal }
        let finished = alert.containments.filter { $0.status.isFinal }
        let shown = (finished.suffix(max(0, shownContainments - live.count)) + live.suffix(shownContainments))
        let hidden = alert.containments.count - shown.count
        if hidden > 0 {
            blocks.append([
                "type": "context",
                "elements": [
                    ["type": "mrkdwn", "text": .string("\(hidden) earlier containment(s) not shown; `/sentry alert \(alert.id)` lists them.")]
                ],
            ])
        }
        for item in shown {
            blocks.append(section(containmentLine(item)))
            if let actions = containmentActions(item) { blocks.append(actions) }
        }
        return blocks
    }

    /// The buttons a containment's state allows, if any.
    static func containmentActions(_ item: Containment) -> JSONValue? {
        let buttons: [JSONValue]
        switch item.status {
        case .awaitingApproval:
            buttons = [button("Approve", "approve", item.id, style: "primary"), button("Reject", "reject", item.id)]
        case .active:
            buttons = [button(liftLabel(item), "unblock", item.id)]
        case .failed:
            buttons = [button("Retry", "retry", item.id, style: "primary"), button(liftLabel(item), "unblock", item.id)]
        default:
            return nil
        }
        return ["type": "actions", "block_id": .string("containment_\(item.id)"), "elements": .array(buttons)]
    }

    /// Approved-only is lifted by restoring the network's normal cellular rules.
    static func liftLabel(_ item: Containment) -> String { item.kind == .approvedOnly ? "Restore" : "Unblock" }

    public static func containmentLine(_ item: Containment) -> String {
        let requester = item.requestedBy == AlertMachine.autoActor ? "Sentry (automatic)" : SlackID.mention(item.requestedBy)
        let head = "\(item.label) for \(DurationText.format(item.ttl)), requested by \(requester)\(item.dryRun ? " — *dry run*" : "")"
        let reason = "\n_\(escape(truncate(item.reason, 300)))_"
        let state: String
        switch item.status {
        case .awaitingApproval:
            let approvers = item.approvals.map(SlackID.mention).joined(separator: ", ")
            state =
                ":hourglass_flowing_sand: Awaiting approval (\(item.approvals.count) of \(item.approvalsRequired)\(approvers.isEmpty ? "" : ": " + approvers))"
        case .executing:
            state = ":gear: Executing…"
        case .active:
            let until = ":lock: Active until \(item.activeUntil.map { SlackDate.format($0) } ?? "?")"
            state =
                until
                + (item.primaryBackAt.map {
                    " · primary uplink back since \(SlackDate.format($0)); rolled back once it stays up \(DurationText.format(item.approvedOnly?.debounce ?? ApprovedOnlySettings.defaultDebounce))"
                } ?? "")
        case .releasing:
            state = ":gear: Rolling back…"
        case .released:
            let by: String
            switch item.releasedBy {
            case nil, "expiry": by = "expired"
            case AlertMachine.recoveryActor: by = "primary uplink back" + AlertMachine.cellularSpell(item)
            case let user?: by = "lifted by \(SlackID.mention(user))"
            }
            state = ":unlock: Rolled back (\(by))\(item.releasedAt.map { " " + SlackDate.format($0) } ?? "")"
        case .rejected where item.rejectedBy == AlertMachine.recoveryActor:
            state = ":electric_plug: Withdrawn: the primary uplink came back before it was approved"
        case .rejected:
            state = ":raised_hand: Rejected by \(item.rejectedBy.map(SlackID.mention) ?? "?")"
        case .failed:
            state =
                ":warning: \(item.failedPhase == .release ? "Rollback failed" : "Failed"): \(escape(truncate(item.failure ?? "unknown error", 500)))"
        }
        return "*\(head)*\n\(state)\(reason)"
    }

    /// One line saying where the alert stands and who put it there.
    public static func statusLine(_ alert: Alert) -> String {
        switch alert.status {
        case .open:
            return ":large_green_circle: Open, not acknowledged"
        case .acknowledged:
            return
                ":eyes: Acknowledged by \(alert.acknowledgedBy.map(SlackID.mention) ?? "?")\(alert.acknowledgedAt.map { " " + SlackDate.format($0) } ?? "")"
        case .resolved:
            return
                ":white_check_mark: Resolved by \(alert.closer ?? "?")\(alert.closedAt.map { " " + SlackDate.format($0) } ?? "")"
        case .dismissed:
            return
                ":no_entry_sign: Dismissed by \(alert.closedBy.map(SlackID.mention) ?? "?")\(alert.closedAt.map { " " + SlackDate.format($0) } ?? "")"
        }
    }

    static func section(_ text: String) -> JSONValue {
        ["type": "section", "text": ["type": "mrkdwn", "text": .string(truncate(text, Limits.sectionText))]]
    }

    static func button(_ label: String, _ actionID: String, _ value: String, style: String? = nil) -> JSONValue {
        var object: [String: JSONValue] = [
            "type": "button",
            "action_id": .string(actionID),
            "value": .string(value),
            "text": ["type": "plain_text", "text": .string(truncate(label, Limits.buttonText)), "emoji": true],
        ]
        if let style { object["style"] = .string(style) }
        return .object(object)
    }

    static func prettyEvidence(_ evidence: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let text = (try? encoder.encode(evidence)).map { String(decoding: $0, as: UTF8.self) } ?? evidence.encoded()
        // A run of backticks could end the code block: keep every backtick apart from the next.
        return escape(text).replacingOccurrences(of: "`", with: "`\u{200B}")
    }

    /// Slack's three control characters in mrkdwn, so evidence cannot inject mentions or links.
    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;")
            .replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Cuts to at most `limit` Unicode scalars (Slack's measure), on a grapheme boundary, never inside an escape,
    /// and says it was cut.
    public static func truncate(_ text: String, _ limit: Int) -> String { BlockKitText.truncate(text, limit) }
}
