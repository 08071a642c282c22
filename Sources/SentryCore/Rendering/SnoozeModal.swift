import Foundation

/// The form a responder fills in after pressing Snooze… on an alert: how long, and why.
public enum SnoozeModal {
    public static let callbackID = "snooze_request"
    public static let durationBlock = "duration"
    public static let durationAction = "duration_input"
    public static let reasonBlock = "reason"
    public static let reasonAction = "reason_input"
    /// What the form offers first.
    public static let defaultDuration = 3_600

    /// `private_metadata`: the alert id, as JSON so the form can carry more later.
    public static func metadata(alertID: String) -> String { JSONValue.object(["alert_id": .string(alertID)]).encoded() }

    public static func alertID(metadata: String) -> String? {
        JSONValue.parse(Array(metadata.utf8))?["alert_id"]?.stringValue
    }

    public static func view(alert: Alert, minDuration: Int, maxDuration: Int) -> JSONValue {
        let subject = alert.subject.key.isEmpty ? "" : " for `\(AlertMessage.escape(alert.subject.key))`"
        let what = """
            New detections of `\(AlertMessage.escape(alert.detection))`\(subject) are still recorded and counted on this alert, \
            but nothing is posted and nobody is paged until the snooze ends. Then the thread says how many arrived.
            """
        let initial = min(max(defaultDuration, minDuration), maxDuration)
        return [
            "type": "modal",
            "callback_id": .string(callbackID),
            "private_metadata": .string(metadata(alertID: alert.id)),
            "title": ["type": "plain_text", "text": "Snooze alert"],
            "submit": ["type": "plain_text", "text": "Snooze"],
            "close": ["type": "plain_text", "text": "Cancel"],
            "blocks": [
                ["type": "section", "text": ["type": "mrkdwn", "text": .string(AlertMessage.truncate(what, 3_000))]],
                [
                    "type": "input", "block_id": .string(durationBlock),
                    "label": ["type": "plain_text", "text": "For how long"],
                    "hint": [
                        "type": "plain_text",
                        "text": .string("Like 30m, 4h or 7d; between \(DurationText.format(minDuration)) and \(DurationText.format(maxDuration))."),
                    ],
                    "element": [
                        "type": "plain_text_input", "action_id": .string(durationAction), "initial_value": .string(DurationText.format(initial)),
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

    /// The duration and reason of a submission, or the errors Slack shows under each field.
    public static func read(values: JSONValue, minDuration: Int, maxDuration: Int) -> Result<
        (duration: Int, reason: String), ContainmentModal.ModalErrors
    > {
        let duration = ModalFields.duration(
            values, block: durationBlock, action: durationAction, min: minDuration, max: maxDuration, examples: "30m, 4h or 7d")
        let reason = ModalFields.reason(values, block: reasonBlock, action: reasonAction)
        var errors: [String: String] = [:]
        errors[durationBlock] = duration.error
        errors[reasonBlock] = reason.error
        return errors.isEmpty ? .success((duration.seconds, reason.text)) : .failure(ContainmentModal.ModalErrors(byBlock: errors))
    }
}
