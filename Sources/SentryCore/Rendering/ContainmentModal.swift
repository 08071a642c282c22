/// The modal a responder fills in after pressing Block user… or Block IP… on an alert.
public enum ContainmentModal {
    public static let callbackID = "containment_request"
    public static let ttlBlock = "ttl"
    public static let ttlAction = "ttl_input"
    public static let reasonBlock = "reason"
    public static let reasonAction = "reason_input"

    /// What the submission needs, carried in `private_metadata`.
    public struct Metadata: Codable, Equatable, Sendable {
        public var alertID: String
        public var kind: ContainmentAction.Kind
        public var target: String

        public init(alertID: String, kind: ContainmentAction.Kind, target: String) {
            self.alertID = alertID
            self.kind = kind
            self.target = target
        }

        public var encoded: String {
            JSONValue.object(["alert_id": .string(alertID), "kind": .string(kind.rawValue), "target": .string(target)]).encoded()
        }

        public init?(_ text: String) {
            guard let json = JSONValue.parse(Array(text.utf8)), let alertID = json["alert_id"]?.stringValue,
                let kind = json["kind"]?.stringValue.flatMap(ContainmentAction.Kind.init(rawValue:)), let target = json["target"]?.stringValue
            else { return nil }
            self.init(alertID: alertID, kind: kind, target: target)
        }
    }

    public static func view(_ metadata: Metadata, defaultTTL: Int, approvals: Int, minTTL: Int, maxTTL: Int, note: String, dryRun: Bool) -> JSONValue
    {
        let what =
            metadata.kind == .approvedOnly
            ? "While network `\(metadata.target)` runs on its cellular uplink, allow only the playbook's approved sources and deny every other device (the appliance's cellular failover rules). Other admins' cellular rules are kept. Rolled back when the primary uplink is active again, at the end of the time below, or with Restore; only our rules are removed."
            : metadata.kind == .blockUser
                ? "Deactivate \(SlackID.mention(metadata.target)) in Slack (SCIM) and sign them out everywhere. Rolled back by reactivating the account."
                : "Add a deny rule for `\(metadata.target)` to the appliance firewall of each configured Meraki network, and block it as a client where it is one. Rolled back by removing only that rule and restoring the client's policy."
        var lines = [what]
        if !note.isEmpty { lines.append(note) }
        lines.append(
            approvals == 0
                ? "Runs as soon as you submit." : "Needs \(approvals) approval\(approvals == 1 ? "" : "s") from another responder before it runs.")
        if dryRun { lines.append("*Dry run:* recorded and shown, never executed (SENTRY_DRY_RUN=1).") }
        return [
            "type": "modal",
            "callback_id": .string(callbackID),
            "private_metadata": .string(metadata.encoded),
            "title": ["type": "plain_text", "text": .string(metadata.kind.title)],
            "submit": ["type": "plain_text", "text": "Request"],
            "close": ["type": "plain_text", "text": "Cancel"],
            "blocks": [
                ["type": "section", "text": ["type": "mrkdwn", "text": .string(AlertMessage.truncate(lines.joined(separator: "\n\n"), 3_000))]],
                [
                    "type": "input", "block_id": .string(ttlBlock),
                    "label": ["type": "plain_text", "text": "For how long"],
                    "hint": [
                        "type": "plain_text",
                        "text": .string(
                            "Like 90s, 15m, 4h or 7d; between \(DurationText.format(minTTL)) and \(DurationText.format(maxTTL)). It is rolled back automatically after that."
                        ),
                    ],
                    "element": [
                        "type": "plain_text_input", "action_id": .string(ttlAction), "initial_value": .string(DurationText.format(defaultTTL)),
                    ],
                ],
                [
                    "type": "input", "block_id": .string(reasonBlock),
                    "label": ["type": "plain_text", "text": "Reason"],
                    "element": ["type": "plain_text_input", "action_id": .string(reasonAction), "multiline": true, "max_length": 500],
                ],
            ],
        ]
    }

    /// The TTL and reason from a submission's `state.values`, or the inline errors Slack shows under each field.
    public static func read(values: JSONValue, minTTL: Int, maxTTL: Int) -> Result<(ttl: Int, reason: String), ModalErrors> {
        let ttl = ModalFields.duration(values, block: ttlBlock, action: ttlAction, min: minTTL, max: maxTTL, examples: "90s, 15m, 4h or 7d")
        let reason = ModalFields.reason(values, block: reasonBlock, action: reasonAction)
        var errors: [String: String] = [:]
        errors[ttlBlock] = ttl.error
        errors[reasonBlock] = reason.error
        return errors.isEmpty ? .success((ttl.seconds, reason.text)) : .failure(ModalErrors(byBlock: errors))
    }

    public struct ModalErrors: Error, Equatable, Sendable {
        public var byBlock: [String: String]
    }
}
