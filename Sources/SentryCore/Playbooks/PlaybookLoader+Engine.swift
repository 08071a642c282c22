import Yams

/// What playbooks of engine detections add: `subject_from:` and `auto_resolve:`, and detection patterns
/// that must not tie.
extension PlaybookLoader {
    /// `subject_from: {ip: labels.client_ip, host: labels.node}`: subject field → a path of the engine's fields.
    static func subjectFrom(_ node: Node, detection: String?, problem: (Node?, String) -> Void) -> [String: String] {
        guard let map = node.mapping else {
            problem(node, "'subject_from' must be a mapping of subject fields to engine fields, such as {ip: labels.client_ip}")
            return [:]
        }
        let engines = EngineRegistry.engines.map { $0.detectionPrefix + ".*" }.joined(separator: ", ")
        guard let detection else { return [:] }
        guard let adapter = EngineRegistry.adapter(forDetection: detection) else {
            problem(node, "'subject_from' needs the detection of one engine (\(engines)), not '\(detection)'")
            return [:]
        }
        let allowed = SubjectValue.overridableFields
        var result: [String: String] = [:]
        for (keyNode, valueNode) in map {
            guard let field = keyNode.string, allowed.contains(field) else {
                let name = keyNode.string ?? "?"
                let hint =
                    name == "user" || name == "username"
                    ? " (an engine's user name goes to 'account', an email address or UPN to 'email')"
                    : ""
                problem(keyNode, "unknown subject field '\(name)' in subject_from\(hint); expected one of \(allowed.joined(separator: ", "))")
                continue
            }
            if result[field] != nil { problem(keyNode, "'subject_from.\(field)' is given twice") }
            guard let path = valueNode.scalar?.string.trimmingCharacters(in: .whitespaces), !path.isEmpty, path.utf8.count <= 200,
                !path.contains(where: { $0.isWhitespace })
            else {
                problem(valueNode, "'subject_from.\(field)' must be the path of one field of the engine's body, such as labels.client_ip")
                continue
            }
            let roots = adapter.fieldRoots
            guard roots.contains(where: { path.hasPrefix($0) && path.count > $0.count }) || roots.contains("") else {
                problem(
                    valueNode,
                    "'subject_from.\(field)': \(adapter.engine.name) fields start with \(roots.map { "'\($0)'" }.joined(separator: ", ")), not '\(path)'"
                )
                continue
            }
            result[field] = path
        }
        return result
    }

    /// Two different patterns with as many literal characters that some detection id matches both: which
    /// playbook answers would depend on the order, so lint refuses the later one.
    static func patternTies(_ playbooks: [Playbook]) -> [PlaybookProblem] {
        let patterns = playbooks.filter { DetectionPattern.isPattern($0.detection) }
        var problems: [PlaybookProblem] = []
        for (index, playbook) in patterns.enumerated() {
            for earlier in patterns[..<index] where earlier.detection != playbook.detection {
                guard DetectionPattern.specificity(earlier.detection) == DetectionPattern.specificity(playbook.detection),
                    let common = DetectionPattern.commonMatch(earlier.detection, playbook.detection)
                else { continue }
                problems.append(
                    PlaybookProblem(
                        file: playbook.source, line: 1,
                        message:
                            "detection pattern '\(playbook.detection)' ties with '\(earlier.detection)' of \(earlier.source): both match '\(common)' and neither is more specific; make one longer or name the detection exactly"
                    ))
                break
            }
        }
        return problems
    }
}
