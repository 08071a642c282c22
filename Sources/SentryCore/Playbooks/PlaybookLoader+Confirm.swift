import Yams

/// `confirm_with_subject: {timeout: 30m, question: "…"}`: ask the alert's Slack user whether it was them.
extension PlaybookLoader {
    static let confirmKeys = ["timeout", "question"]

    static func confirmWithSubject(_ node: Node, detection: String?, problem: (Node?, String) -> Void) -> ConfirmSettings? {
        guard let map = node.mapping else {
            problem(node, "'confirm_with_subject' must be a mapping such as {timeout: 30m}")
            return nil
        }
        var timeout: Int?
        var question: String?
        var valid = true
        for (keyNode, valueNode) in map {
            switch keyNode.string {
            case "timeout":
                guard let text = valueNode.scalar?.string.trimmingCharacters(in: .whitespaces), let seconds = DurationText.parse(text) else {
                    problem(valueNode, "'confirm_with_subject.timeout' must be a positive duration such as 90s, 30m, 4h or 1d")
                    valid = false
                    continue
                }
                timeout = seconds
            case "question":
                guard let text = valueNode.scalar?.string.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty,
                    BlockKitText.length(text) <= 2_000
                else {
                    problem(valueNode, "'confirm_with_subject.question' must be a non-empty text of at most 2,000 characters")
                    valid = false
                    continue
                }
                question = text
            default:
                problem(
                    keyNode, "unknown key '\(keyNode.string ?? "?")' in confirm_with_subject; expected \(confirmKeys.joined(separator: ", "))")
                valid = false
            }
        }
        if timeout == nil, valid {
            problem(node, "'confirm_with_subject' needs a 'timeout' such as 30m: how long the user has to answer")
            valid = false
        }
        if let detection, ConfirmationRule.detectionsWithoutUser.contains(detection) {
            problem(
                node,
                "'confirm_with_subject' asks the alert's Slack user, but the subject of '\(detection)' is never a Slack user (an IP address or a Meraki device)"
            )
            valid = false
        }
        guard valid, let timeout else { return nil }
        return ConfirmSettings(timeout: timeout, question: question)
    }
}
