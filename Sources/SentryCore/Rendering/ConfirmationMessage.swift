import Foundation

/// The question in the subject's direct messages, in plain words, and the line the alert message shows about it.
public enum ConfirmationMessage {
    /// The `block_id` of the two buttons.
    public static let actionsBlockID = "confirm"

    public static func render(_ alert: Alert) -> (text: String, blocks: JSONValue) {
        let question = question(alert)
        var blocks: [JSONValue] = [AlertMessage.section(AlertMessage.truncate(AlertMessage.escape(question), AlertMessage.Limits.sectionText))]
        let state = alert.confirmation?.state ?? .asking
        switch state {
        case .asking, .asked:
            blocks.append([
                "type": "actions", "block_id": .string(actionsBlockID),
                "elements": [
                    AlertMessage.button(ConfirmAnswer.yes.label, ConfirmAnswer.yes.rawValue, alert.id, style: "primary"),
                    AlertMessage.button(ConfirmAnswer.no.label, ConfirmAnswer.no.rawValue, alert.id, style: "danger"),
                ],
            ])
        case .confirmed:
            blocks.append(AlertMessage.section("You answered *\(ConfirmAnswer.yes.label)*. Thank you: the security team has your answer."))
        case .denied:
            blocks.append(
                AlertMessage.section(
                    "You answered *\(ConfirmAnswer.no.label)*. Thank you: the security team has been told and is looking into it now."))
        case .expired, .notAsked:
            let due = alert.confirmation.map { " " + SlackDate.format($0.dueAt) } ?? ""
            blocks.append(AlertMessage.section("This question expired\(due). The security team will follow up with you."))
        }
        blocks.append([
            "type": "context",
            "elements": [["type": "mrkdwn", "text": .string("Sentry, for the security team · alert `\(alert.id)`")]],
        ])
        return (AlertMessage.truncate(question, AlertMessage.Limits.messageText), .array(blocks))
    }

    /// The question: the playbook's words, or words made from the detection.
    public static func question(_ alert: Alert) -> String {
        if let words = alert.policy.confirm?.question, !words.isEmpty { return words }
        let count = alert.evidence?["count"]?.numberValue.map { Int($0) }
        switch (alert.detection, count) {
        case ("slack.max_daily_download", let count?):
            return "We saw \(count) file downloads from your account today. Was this you?"
        case ("slack.sensitive_file_downloads", let count?):
            return "We saw \(count) downloads of files that look sensitive (payroll, passwords, exports) from your account. Was this you?"
        case ("slack.filename_keywords", let count?):
            return "We saw \(count) files with watched words in their names downloaded or shared from your account. Was this you?"
        default:
            return "Our security monitoring flagged activity on your account: “\(alert.title)”. Was this you?"
        }
    }

    /// What the alert message says about the question, or nil when none was asked.
    public static func statusLine(_ alert: Alert) -> String? {
        guard let confirmation = alert.confirmation else { return nil }
        let who = SlackID.mention(confirmation.userID)
        switch confirmation.state {
        case .asking:
            return ":speech_balloon: Asking \(who) whether this was them."
        case .asked:
            return ":speech_balloon: Asked \(who) whether this was them; waiting until \(SlackDate.format(confirmation.dueAt))."
        case .confirmed:
            let at = confirmation.answeredAt.map { " " + SlackDate.format($0) } ?? ""
            return ":raising_hand: \(who) answered *\(ConfirmAnswer.yes.label)*\(at). A compromised account can say yes too."
        case .denied:
            let at = confirmation.answeredAt.map { " " + SlackDate.format($0) } ?? ""
            return ":warning: *Confirmed malicious by the user*: \(who) answered *\(ConfirmAnswer.no.label)*\(at)."
        case .expired:
            return ":hourglass: \(who) did not answer whether this was them by \(SlackDate.format(confirmation.dueAt))."
        case .notAsked:
            return ":no_bell: \(who) was not asked: \(AlertMessage.escape(confirmation.note ?? "no reason recorded"))."
        }
    }
}
