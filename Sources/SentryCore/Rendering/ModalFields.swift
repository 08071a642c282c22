import Foundation

/// The fields the containment and snooze forms share: a bounded duration and a reason for the audit trail,
/// read from a submission's `state.values` with the sentence Slack shows under a field that is wrong.
enum ModalFields {
    /// A duration such as `90s`, `15m`, `4h`, `7d`, within the bounds; the error names both bounds.
    static func duration(_ values: JSONValue, block: String, action: String, min: Int, max: Int, examples: String) -> (seconds: Int, error: String?) {
        let text = values[block]?[action]?["value"]?.stringValue ?? ""
        guard let parsed = DurationText.parse(text) else { return (0, "Write a duration such as \(examples).") }
        if parsed < min || parsed > max {
            return (parsed, "Must be between \(DurationText.format(min)) and \(DurationText.format(max)).")
        }
        return (parsed, nil)
    }

    /// A reason of 3 to 500 characters, trimmed.
    static func reason(_ values: JSONValue, block: String, action: String) -> (text: String, error: String?) {
        let reason = (values[block]?[action]?["value"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if reason.count < 3 { return (reason, "Say why, in a few words: it goes in the audit trail.") }
        if reason.count > 500 { return (reason, "At most 500 characters.") }
        return (reason, nil)
    }
}
