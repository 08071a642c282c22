import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// `PlaybookLoader`: every mistake with its file and line, as `sentry playbooks lint` prints it.
@Suite struct CorePlaybookLoaderTests {
    static let validLines = [
        "id: test-playbook",  // 1
        "title: Test playbook",  // 2
        "detection: slack.max_daily_download",  // 3
        "severity: high",  // 4
        "channel: C0123456789",  // 5
        "grouping_window: 2h",  // 6
        "ack_timeout: 15m",  // 7
        "escalation:",  // 8
        "  mention: [here, S0123ABCD, U024BE7LH]",  // 9
        "  channel: C0ESCALATE1",  // 10
        "  repeat: 3",  // 11
        "actions:",  // 12
        "  block_user: {approvals: 2, ttl: 4h}",  // 13
        "  block_ip:",  // 14
        "    approvals: 0",  // 15
        "    ttl: 90s",  // 16
        "responders: [U024BE7LH, W0123ABCD, S0123ABCD]",  // 17
        "rule:",  // 18
        "  threshold: 100",  // 19
        "  window: 1d",  // 20
        "tests:",  // 21
        "  - name: spray",  // 22
        "    expect: alert",  // 23
    ]

    static var validText: String { validLines.joined(separator: "\n") + "\n" }

    /// The valid playbook with line `number` (1-based) replaced, or removed when `text` is nil.
    static func variant(line number: Int, _ text: String?) -> String {
        var lines = validLines
        if let text { lines[number - 1] = text } else { lines.remove(at: number - 1) }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func validPlaybookParses() throws {
        let result = PlaybookLoader.parse(Self.validText, file: "Playbooks/test.yml")
        #expect(result.problems == [])
        let playbook = try #require(result.playbook)
        #expect(
            playbook
                == Playbook(
                    id: "test-playbook", title: "Test playbook", detection: "slack.max_daily_download", severity: .high,
                    channel: "C0123456789", groupingWindow: 7_200, ackTimeout: 900,
                    escalation: Escalation(mention: ["here", "S0123ABCD", "U024BE7LH"], channel: "C0ESCALATE1", repeatCount: 3),
                    actions: [
                        ContainmentAction(kind: .blockUser, approvals: 2, ttl: 14_400),
                        ContainmentAction(kind: .blockIP, approvals: 0, ttl: 90),
                    ],
                    responders: ["U024BE7LH", "W0123ABCD", "S0123ABCD"],
                    rule: ["threshold": 100, "window": "1d"],
                    tests: [["name": "spray", "expect": "alert"]],
                    source: "Playbooks/test.yml"))
    }

    @Test func minimalPlaybookTakesDefaults() throws {
        let result = PlaybookLoader.parse("id: p\ntitle: P\ndetection: \"*\"\n", file: "p.yml")
        #expect(result.problems == [])
        let playbook = try #require(result.playbook)
        #expect(playbook.detection == Playbook.catchAll)
        #expect(playbook.severity == .medium)
        #expect(playbook.groupingWindow == 3_600)
        #expect(playbook.ackTimeout == nil)
        #expect(playbook.escalation == nil)
        #expect(playbook.actions == [])
        #expect(playbook.channel == nil)
    }

    /// (line replaced, its new text, line the problem must name, words the message must contain)
    static let mistakes: [(Int, String, Int, String)] = [
        (4, "severty: high", 4, "unknown key 'severty' (did you mean 'severity'?)"),
        (6, "groupingwindow: 2h", 6, "did you mean 'grouping_window'?"),
        (4, "severity: urgent", 4, "'severity' must be one of low, medium, high, critical"),
        (5, "channel: '#security'", 5, "'channel' must be a Slack channel id"),
        (5, "channel: U024BE7LH", 5, "'channel' must be a Slack channel id"),
        (6, "grouping_window: 2 hours", 6, "'grouping_window' must be a duration"),
        (6, "grouping_window: 0s", 6, "'grouping_window' must be a duration"),
        (7, "ack_timeout: -5m", 7, "'ack_timeout' must be a duration"),
        (7, "ack_timeout: 15", 7, "'ack_timeout' must be a duration"),
        (9, "  mention: [here, oncall]", 9, "'oncall'"),
        (10, "  channel: security", 10, "'escalation.channel'"),
        (11, "  repeat: 0", 11, "'escalation.repeat' must be a whole number from 1 to 20"),
        (11, "  repeat: 21", 11, "'escalation.repeat'"),
        (11, "  repeats: 2", 11, "unknown key 'repeats' in escalation"),
        (13, "  block_host: {approvals: 2, ttl: 4h}", 13, "unknown action 'block_host'; expected block_user, block_ip or approved_only"),
        (13, "  block_user: {approvals: 2, ttl: 4h, notify: true}", 13, "unknown key 'notify' in actions.block_user"),
        (13, "  block_user: {approvals: 6, ttl: 4h}", 13, "'actions.block_user.approvals' must be a whole number from 0 to 5"),
        (15, "    approvals: -1", 15, "'actions.block_ip.approvals' must be a whole number from 0 to 5"),
        (15, "    approvals: 1.5", 15, "'actions.block_ip.approvals'"),
        (16, "    ttl: forever", 16, "'actions.block_ip.ttl' must be a duration"),
        (17, "responders: [U024BE7LH, bob]", 17, "'bob'"),
        (17, "responders: [U024BE7LH, C0123456789]", 17, "'C0123456789'"),
        (1, "id: test playbook", 1, "'id' may contain only"),
        (3, "detection: Slack.Max", 3, "'detection' must be a detection id"),
        (2, "title: a: b", 2, "not valid YAML"),
        (2, "\ttitle: x", 2, "not valid YAML"),
        (3, "detection: *undefined_alias", 3, "not valid YAML"),
    ]

    @Test(arguments: mistakes)
    func mistakeNamesItsLine(line: Int, text: String, expectedLine: Int, words: String) throws {
        let result = PlaybookLoader.parse(Self.variant(line: line, text), file: "Playbooks/bad.yml")
        #expect(result.playbook == nil)
        // A bad ack_timeout may also be reported as missing for the escalation; the problem itself must be there.
        let problem = try #require(result.problems.first { $0.message.contains(words) }, "\(result.problems)")
        #expect(result.problems.first == problem, "\(result.problems)")
        #expect(problem.file == "Playbooks/bad.yml")
        #expect(!problem.message.contains("\n"), "one line per problem: \(problem.message)")
        #expect(problem.line == expectedLine, "\(problem)")
        #expect(problem.message.contains(words), "\(problem)")
        #expect(problem.description == "Playbooks/bad.yml:\(problem.line): \(problem.message)")
    }

    @Test func unknownKeyFarFromAnyKnownOneHasNoGuess() throws {
        let result = PlaybookLoader.parse(Self.variant(line: 4, "zzzzzzzzzz: 1"), file: "bad.yml")
        let problem = try #require(result.problems.first)
        #expect(problem.line == 4)
        #expect(problem.message.contains("unknown key 'zzzzzzzzzz'"))
        #expect(!problem.message.contains("did you mean"))
    }

    @Test func escalationWithoutAckTimeoutPointsAtTheEscalation() throws {
        // Without line 7 the escalation starts at line 7 and its first entry is on line 8.
        let result = PlaybookLoader.parse(Self.variant(line: 7, nil), file: "bad.yml")
        let problem = try #require(result.problems.first)
        #expect(result.problems.count == 1, "\(result.problems)")
        #expect(problem.message.contains("'escalation' needs 'ack_timeout'"))
        #expect([7, 8].contains(problem.line), "\(problem)")
    }

    @Test func escalationNeedsSomeoneOrSomewhere() throws {
        var lines = Self.validLines
        lines.replaceSubrange(8...10, with: ["  repeat: 2"])
        let result = PlaybookLoader.parse(lines.joined(separator: "\n"), file: "bad.yml")
        let problem = try #require(result.problems.first)
        #expect(problem.message.contains("'escalation' needs a 'mention' list or a 'channel'"))
        #expect([8, 9].contains(problem.line), "\(problem)")
    }

    @Test func badResponderInABlockListNamesItsOwnLine() throws {
        var lines = Self.validLines
        lines.replaceSubrange(16...16, with: ["responders:", "  - U024BE7LH", "  - S0123ABCD", "  - '#oncall'"])
        let result = PlaybookLoader.parse(lines.joined(separator: "\n"), file: "bad.yml")
        let problem = try #require(result.problems.first)
        #expect(result.problems.count == 1)
        #expect(problem.line == 20)
        #expect(problem.message.contains("'#oncall'"))
    }

    @Test func ruleMustBeAMappingAndTestsAList() throws {
        var lines = Array(Self.validLines[0..<17])
        lines += ["rule: 100", "tests: {a: 1}"]
        let result = PlaybookLoader.parse(lines.joined(separator: "\n"), file: "bad.yml")
        #expect(result.playbook == nil)
        #expect(result.problems.map(\.line) == [18, 19])
        #expect(result.problems.first?.message.contains("'rule' must be a mapping") == true)
        #expect(result.problems.last?.message.contains("'tests' must be a list") == true)
    }

    @Test func missingRequiredKeyIsReported() throws {
        let result = PlaybookLoader.parse(Self.variant(line: 2, nil), file: "bad.yml")
        #expect(result.playbook == nil)
        #expect(result.problems == [PlaybookProblem(file: "bad.yml", line: 1, message: "'title' is required")])
    }

    @Test func keyGivenTwiceIsReportedAtAnOccurrenceInOneLine() throws {
        let result = PlaybookLoader.parse(Self.validText + "severity: low\n", file: "bad.yml")
        #expect(result.playbook == nil)
        let problem = try #require(result.problems.first)
        #expect(result.problems.count == 1)
        // Yams refuses duplicate keys itself and only knows the first occurrence; either line is useful, line 1 is not.
        #expect([4, 24].contains(problem.line), "\(problem)")
        #expect(problem.message.contains("'severity'"), "\(problem)")
        #expect(!problem.message.contains("\n"), "the whole document is echoed: \(problem.message)")
    }

    @Test func everyMistakeOfAFileIsListed() throws {
        var lines = Self.validLines
        lines[3] = "severity: urgent"
        lines[4] = "channel: '#security'"
        lines[15] = "    ttl: forever"
        let result = PlaybookLoader.parse(lines.joined(separator: "\n"), file: "bad.yml")
        #expect(result.playbook == nil)
        #expect(result.problems.map(\.line).sorted() == [4, 5, 16])
    }

    @Test(arguments: ["", "just text", "- a\n- b\n"])
    func aDocumentThatIsNotAMappingIsRefused(text: String) throws {
        let result = PlaybookLoader.parse(text, file: "bad.yml")
        #expect(result.playbook == nil)
        let problem = try #require(result.problems.first)
        #expect(problem.line == 1)
    }

    // MARK: Across files

    private func playbook(_ id: String, _ detection: String, _ source: String) -> Playbook {
        Playbook(id: id, title: id, detection: detection, severity: .low, source: source)
    }

    @Test func duplicateIDsAreReportedAgainstTheSecondFile() {
        let problems = PlaybookLoader.crossCheck([playbook("p", "a.one", "a.yml"), playbook("p", "b.two", "b.yml")])
        #expect(problems.count == 1)
        #expect(problems.first?.file == "b.yml")
        #expect(problems.first?.message.contains("id 'p'") == true)
        #expect(problems.first?.message.contains("a.yml") == true)
    }

    @Test func twoPlaybooksForOneDetectionAreReported() {
        let problems = PlaybookLoader.crossCheck([playbook("p", "a.one", "a.yml"), playbook("q", "a.one", "b.yml")])
        #expect(problems.count == 1)
        #expect(problems.first?.file == "b.yml")
        #expect(problems.first?.message.contains("detection 'a.one'") == true)
    }

    @Test func twoCatchAllsAreReported() {
        let problems = PlaybookLoader.crossCheck([playbook("p", "*", "a.yml"), playbook("q", "*", "b.yml")])
        #expect(problems.count == 1)
    }

    @Test func distinctPlaybooksCrossCheckClean() {
        #expect(PlaybookLoader.crossCheck([playbook("p", "a.one", "a.yml"), playbook("q", "b.two", "b.yml")]) == [])
    }

    @Test func loadReportsDuplicatesAcrossFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("core-playbooks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.validText.write(to: directory.appendingPathComponent("a.yml"), atomically: true, encoding: .utf8)
        try Self.variant(line: 1, "id: other").write(to: directory.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        try "not a playbook".write(to: directory.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        let result = PlaybookLoader.load(directory: directory.path)
        #expect(result.playbooks.count == 2)
        #expect(result.problems.count == 1)
        #expect(result.problems.first?.file.hasSuffix("b.yaml") == true)
        #expect(result.problems.first?.message.contains("slack.max_daily_download") == true)
    }

    @Test func missingFolderIsAProblem() {
        let result = PlaybookLoader.load(directory: "/nonexistent/\(UUID().uuidString)")
        #expect(result.playbooks.isEmpty)
        #expect(result.problems.count == 1)
    }

    // MARK: The shipped playbooks

    @Test func shippedPlaybooksLoadWithoutProblems() throws {
        let directory = CoreFixtures.repoRoot.appendingPathComponent("Playbooks")
        var isDirectory: ObjCBool = false
        try #require(
            FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) && isDirectory.boolValue,
            "no Playbooks folder at \(directory.path)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }
        let result = PlaybookLoader.load(directory: directory.path)
        #expect(result.problems == [], "\(result.problems.map(\.description).joined(separator: "\n"))")
        #expect(result.playbooks.count == files.count)
        #expect(!files.isEmpty)
        let catalog = PlaybookCatalog(result.playbooks)
        for playbook in result.playbooks where playbook.detection != Playbook.catchAll {
            #expect(catalog.playbook(for: playbook.detection)?.id == playbook.id)
        }
    }
}
