import SentryCore

extension FuzzTarget {
    /// Playbook files: a playbook or located problems, never both; what is accepted is what lint promises.
    static let playbook = FuzzTarget(name: "playbook") { bytes in
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        let (playbook, problems) = PlaybookLoader.parse(text, file: "fuzz.yml")
        FuzzCheck.expect((playbook == nil) != problems.isEmpty, "a playbook with problems, or neither")
        // YAML breaks lines at CR, LF, NEL, LS and PS (a CR LF counted twice here: this is an upper bound).
        let lines = 1 + text.unicodeScalars.count { ["\n", "\r", "\u{85}", "\u{2028}", "\u{2029}"].contains($0) }
        for problem in problems {
            FuzzCheck.expect((0...lines + 1).contains(problem.line), "problem on line \(problem.line) of \(lines): \(problem.message)")
        }
        guard let playbook else { return }
        FuzzCheck.expect(!playbook.id.isEmpty && !playbook.title.isEmpty, "playbook without id or title")
        if let channel = playbook.channel { FuzzCheck.expect(SlackID.isChannel(channel), "channel \(channel)") }
        FuzzCheck.expect(playbook.responders.allSatisfy { SlackID.isUser($0) || SlackID.isUserGroup($0) }, "responders \(playbook.responders)")
        FuzzCheck.expect(playbook.actions.allSatisfy { (0...5).contains($0.approvals) && $0.ttl > 0 }, "actions \(playbook.actions)")
        FuzzCheck.expect(playbook.groupingWindow > 0 && (playbook.ackTimeout ?? 1) > 0, "durations")
        // Thresholds and test cases are kept as JSON: they must survive being written as JSON.
        for (key, value) in [("rule", playbook.rule), ("tests", playbook.tests)] {
            guard let value else { continue }
            FuzzCheck.expect(JSONValue.parse(Array(value.encoded().utf8)) == value, "'\(key)' does not survive JSON: \(value.encoded().prefix(200))")
        }
    }
}
