import Foundation
import Yams

/// One mistake in a playbook file, located for `file:line: message` output.
public struct PlaybookProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String
    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }
    public var description: String { "\(file):\(line): \(message)" }
}

/// Reads `Playbooks/*.yml` and explains every mistake with its file and line.
public enum PlaybookLoader {
    static let topLevelKeys = [
        "id", "title", "detection", "severity", "channel", "grouping_window", "ack_timeout", "escalation",
        "actions", "responders", "rule", "tests", "subject_from", "auto_resolve", "confirm_with_subject",
    ]

    /// Loads every `.yml`/`.yaml` file of a folder. Problems are returned, not thrown, so lint can list them all.
    public static func load(directory: String) -> (playbooks: [Playbook], problems: [PlaybookProblem]) {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return ([], [PlaybookProblem(file: directory, line: 0, message: "playbook folder not found")])
        }
        let names = ((try? fm.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }
            .sorted()
        var playbooks: [Playbook] = []
        var problems: [PlaybookProblem] = []
        if names.isEmpty {
            problems.append(PlaybookProblem(file: directory, line: 0, message: "no playbooks (*.yml) in this folder"))
        }
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = fm.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                problems.append(PlaybookProblem(file: path, line: 0, message: "cannot be read as UTF-8 text"))
                continue
            }
            let result = parse(text, file: path)
            problems += result.problems
            if let playbook = result.playbook { playbooks.append(playbook) }
        }
        problems += crossCheck(playbooks)
        return (playbooks, problems)
    }

    /// Problems that involve more than one file.
    static func crossCheck(_ playbooks: [Playbook]) -> [PlaybookProblem] {
        var problems: [PlaybookProblem] = []
        var ids: [String: Playbook] = [:]
        var detections: [String: Playbook] = [:]
        for playbook in playbooks {
            if let other = ids[playbook.id] {
                problems.append(PlaybookProblem(file: playbook.source, line: 1, message: "id '\(playbook.id)' is also used by \(other.source)"))
            } else {
                ids[playbook.id] = playbook
            }
            if let other = detections[playbook.detection] {
                problems.append(
                    PlaybookProblem(
                        file: playbook.source, line: 1,
                        message: "detection '\(playbook.detection)' is already answered by \(other.source); one playbook per detection"))
            } else {
                detections[playbook.detection] = playbook
            }
        }
        return problems + patternTies(playbooks)
    }

    /// Parses one playbook document.
    public static func parse(_ text: String, file: String) -> (playbook: Playbook?, problems: [PlaybookProblem]) {
        var problems: [PlaybookProblem] = []
        func problem(_ node: Node?, _ message: String) {
            problems.append(PlaybookProblem(file: file, line: node?.mark?.line ?? 1, message: message))
        }

        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            let (line, message) = describe(error)
            return (nil, [PlaybookProblem(file: file, line: line, message: "not valid YAML: \(message)")])
        } catch {
            return (nil, [PlaybookProblem(file: file, line: 1, message: "not valid YAML: \(error)")])
        }
        guard let root, let mapping = root.mapping else {
            return (nil, [PlaybookProblem(file: file, line: 1, message: "a playbook is a mapping of keys such as id, title, detection")])
        }

        var fields: [String: Node] = [:]
        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.string else {
                problem(keyNode, "keys must be plain words")
                continue
            }
            if !topLevelKeys.contains(key) {
                let hint = closest(key, in: topLevelKeys).map { " (did you mean '\($0)'?)" } ?? ""
                problem(keyNode, "unknown key '\(key)'\(hint); expected one of \(topLevelKeys.joined(separator: ", "))")
                continue
            }
            if fields[key] != nil { problem(keyNode, "'\(key)' is given twice") }
            fields[key] = valueNode
        }

        func requiredText(_ key: String) -> String? {
            guard let node = fields[key] else {
                problem(root, "'\(key)' is required")
                return nil
            }
            guard let value = scalarText(node), !value.isEmpty else {
                problem(node, "'\(key)' must be a non-empty text")
                return nil
            }
            return value
        }
        func duration(_ key: String, node: Node?) -> Int? {
            guard let node else { return nil }
            guard let text = scalarText(node), let seconds = DurationText.parse(text) else {
                problem(node, "'\(key)' must be a duration such as 90s, 15m, 4h or 7d")
                return nil
            }
            return seconds
        }

        let id = requiredText("id")
        if let id, !id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) {
            problem(fields["id"], "'id' may contain only letters, digits, '-', '_' and '.'")
        }
        let title = requiredText("title")
        let detection = requiredText("detection")
        if let detection, !DetectionPattern.isValid(detection) {
            problem(
                fields["detection"],
                "'detection' must be a detection id such as slack.max_daily_download, a pattern such as alertmanager.* (one '*' stands for any run of characters), or '*' for every other detection"
            )
        }

        var severity = Severity.medium
        if let node = fields["severity"] {
            if let text = scalarText(node), let parsed = Severity(rawValue: text) {
                severity = parsed
            } else {
                problem(node, "'severity' must be one of low, medium, high, critical")
            }
        }

        var channel: String?
        if let node = fields["channel"] {
            if let text = scalarText(node), SlackID.isChannel(text) {
                channel = text
            } else {
                problem(node, "'channel' must be a Slack channel id such as C0123456789 (not a #name)")
            }
        }

        let groupingWindow = duration("grouping_window", node: fields["grouping_window"]) ?? 3_600
        let ackTimeout = duration("ack_timeout", node: fields["ack_timeout"])

        var escalation: Escalation?
        if let node = fields["escalation"] {
            if let map = node.mapping {
                var mention: [String] = []
                var escalationChannel: String?
                var repeatCount = 1
                for (keyNode, valueNode) in map {
                    switch keyNode.string {
                    case "mention":
                        mention = idList(valueNode, key: "escalation.mention", problem: problem) {
                            SlackID.isUser($0) || SlackID.isUserGroup($0) || ["here", "channel"].contains($0)
                        }
                    case "channel":
                        if let text = scalarText(valueNode), SlackID.isChannel(text) {
                            escalationChannel = text
                        } else {
                            problem(valueNode, "'escalation.channel' must be a Slack channel id such as C0123456789")
                        }
                    case "repeat":
                        if let count = valueNode.int, count >= 1, count <= 20 {
                            repeatCount = count
                        } else {
                            problem(valueNode, "'escalation.repeat' must be a whole number from 1 to 20")
                        }
                    default:
                        problem(keyNode, "unknown key '\(keyNode.string ?? "?")' in escalation; expected mention, channel, repeat")
                    }
                }
                if mention.isEmpty && escalationChannel == nil {
                    problem(node, "'escalation' needs a 'mention' list or a 'channel'")
                }
                escalation = Escalation(mention: mention, channel: escalationChannel, repeatCount: repeatCount)
                if fields["ack_timeout"] == nil {
                    problem(node, "'escalation' needs 'ack_timeout' to know when to escalate")
                }
            } else {
                problem(node, "'escalation' must be a mapping with mention, channel, repeat")
            }
        }

        var actions: [ContainmentAction] = []
        if let node = fields["actions"] {
            if let map = node.mapping {
                for (keyNode, valueNode) in map {
                    guard let name = keyNode.string, let kind = ContainmentAction.Kind(rawValue: name) else {
                        problem(keyNode, "unknown action '\(keyNode.string ?? "?")'; expected block_user, block_ip or approved_only")
                        continue
                    }
                    var approvals = 1
                    var ttl: Int?
                    if let options = valueNode.mapping {
                        for (optionKey, optionValue) in options {
                            switch optionKey.string {
                            case "approvals":
                                if let count = optionValue.int, count >= 0, count <= 5 {
                                    approvals = count
                                } else {
                                    problem(optionValue, "'actions.\(name).approvals' must be a whole number from 0 to 5")
                                }
                            case "ttl":
                                ttl = duration("actions.\(name).ttl", node: optionValue)
                            case let key? where kind == .approvedOnly && Self.approvedOnlyKeys.contains(key):
                                continue
                            default:
                                let expected =
                                    kind == .approvedOnly ? (["approvals", "ttl"] + Self.approvedOnlyKeys).joined(separator: ", ") : "approvals, ttl"
                                problem(optionKey, "unknown key '\(optionKey.string ?? "?")' in actions.\(name); expected \(expected)")
                            }
                        }
                    } else if valueNode.null == nil {
                        problem(valueNode, "'actions.\(name)' must be a mapping with approvals and ttl")
                    }
                    var settings: ApprovedOnlySettings?
                    if kind == .approvedOnly {
                        settings = approvedOnly(valueNode, approvals: approvals, problem: problem)
                    }
                    actions.append(
                        ContainmentAction(
                            kind: kind, approvals: approvals, ttl: ttl ?? (kind == .approvedOnly ? 43_200 : 3_600), approvedOnly: settings))
                }
            } else {
                problem(node, "'actions' must be a mapping such as block_ip: {approvals: 1, ttl: 4h}")
            }
        }

        var responders: [String] = []
        if let node = fields["responders"] {
            responders = idList(node, key: "responders", problem: problem) { SlackID.isUser($0) || SlackID.isUserGroup($0) }
        }

        var rule: JSONValue?
        if let node = fields["rule"] {
            if node.mapping == nil { problem(node, "'rule' must be a mapping of thresholds") }
            rule = json(node)
        }
        var tests: JSONValue?
        if let node = fields["tests"] {
            if node.sequence == nil { problem(node, "'tests' must be a list of cases") }
            tests = json(node)
        }

        var subjectFrom: [String: String] = [:]
        if let node = fields["subject_from"] {
            subjectFrom = Self.subjectFrom(node, detection: detection, problem: problem)
        }
        var autoResolve = true
        if let node = fields["auto_resolve"] {
            if let flag = node.bool, node.scalar?.style == .plain {
                autoResolve = flag
            } else {
                problem(node, "'auto_resolve' must be true or false")
            }
        }

        var confirm: ConfirmSettings?
        if let node = fields["confirm_with_subject"] {
            confirm = confirmWithSubject(node, detection: detection, problem: problem)
        }

        guard problems.isEmpty, let id, let title, let detection else { return (nil, problems) }
        let playbook = Playbook(
            id: id, title: title, detection: detection, severity: severity, channel: channel,
            groupingWindow: groupingWindow, ackTimeout: ackTimeout, escalation: escalation, actions: actions,
            responders: responders, rule: rule, tests: tests, subjectFrom: subjectFrom, autoResolve: autoResolve,
            confirmWithSubject: confirm, source: file)
        // The rule's settings are checked the way the engine reads them (thresholds, durations, keywords,
        // patterns compiled once), so lint finds what `serve` would refuse.
        do {
            _ = try RuleEngine(playbooks: [playbook])
        } catch let error as RuleEngine.Problem {
            problem(fields["rule"], error.message)
            return (nil, problems)
        } catch {
            problem(fields["rule"], "\(error)")
            return (nil, problems)
        }
        return (playbook, [])
    }

    private static func idList(
        _ node: Node, key: String, problem: (Node?, String) -> Void, valid: (String) -> Bool
    ) -> [String] {
        let items: [Node]
        if let sequence = node.sequence {
            items = Array(sequence)
        } else if node.scalar != nil {
            items = [node]
        } else {
            problem(node, "'\(key)' must be a list of Slack ids")
            return []
        }
        var ids: [String] = []
        for item in items {
            guard let text = scalarText(item), valid(text) else {
                problem(item, "'\(key)' has '\(scalarText(item) ?? "?")', which is not a Slack user (U…/W…) or user-group (S…) id")
                continue
            }
            ids.append(text)
        }
        return ids
    }

    private static func scalarText(_ node: Node) -> String? {
        guard let scalar = node.scalar else { return nil }
        return scalar.string.trimmingCharacters(in: .whitespaces)
    }

    static func json(_ node: Node) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if node.null != nil, scalar.string.isEmpty || scalar.string == "null" || scalar.string == "~" { return .null }
            if scalar.style == .plain {
                if let bool = node.bool { return .bool(bool) }
                if let int = node.int { return .number(Double(int)) }
                if let double = node.float { return .number(double) }
            }
            return .string(scalar.string)
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping { object[key.string ?? "?"] = json(value) }
            return .object(object)
        case .sequence(let sequence):
            return .array(sequence.map(json))
        case .alias:
            return .null
        }
    }

    private static func describe(_ error: YamlError) -> (Int, String) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return (mark.line, problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return (context.mark.line, "\(keys) is given twice in this mapping")
        default:
            // Never echo the whole file: first line of the description only.
            return (1, String("\(error)".split(separator: "\n").first ?? "unreadable YAML"))
        }
    }

    private static func closest(_ word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word, $0)) }.min { $0.1 < $1.1 }
        guard let scored, scored.1 <= 3 else { return nil }
        return scored.0
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
