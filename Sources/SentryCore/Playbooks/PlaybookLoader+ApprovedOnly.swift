import Yams

/// `actions.approved_only`: `{approvals, ttl, auto, debounce, placement, approved: {cidrs, groups}}`.
extension PlaybookLoader {
    static let approvedOnlyKeys = ["auto", "debounce", "placement", "approved"]

    /// The settings of an approved-only action, every mistake reported; nil when something is wrong.
    static func approvedOnly(_ node: Node, approvals: Int, problem: (Node?, String) -> Void) -> ApprovedOnlySettings? {
        var ok = true
        func fail(_ at: Node?, _ message: String) {
            ok = false
            problem(at, message)
        }
        guard let map = node.mapping else {
            fail(node, "'actions.approved_only' needs 'approved' sources: approved_only: {approved: {cidrs: [10.20.0.0/24]}}")
            return nil
        }
        var settings = ApprovedOnlySettings(cidrs: [])
        var approvedNode: Node?
        var autoNode: Node?
        for (key, value) in map {
            switch key.string {
            case "auto":
                autoNode = value
                if let flag = value.bool { settings.auto = flag } else { fail(value, "'actions.approved_only.auto' must be true or false") }
            case "debounce":
                if let text = value.scalar?.string, let seconds = DurationText.parse(text), (0...3_600).contains(seconds) {
                    settings.debounce = seconds
                } else {
                    fail(value, "'actions.approved_only.debounce' must be a duration from 0s to 1h, such as 30s")
                }
            case "placement":
                if let text = value.scalar?.string, let placement = ApprovedOnlySettings.Placement(rawValue: text) {
                    settings.placement = placement
                } else {
                    fail(
                        value,
                        "'actions.approved_only.placement' must be 'first' (our rules before other admins' cellular rules) or 'last' (after them)")
                }
            case "approved":
                approvedNode = value
            default:
                continue  // reported by the caller
            }
        }
        if settings.auto, approvals > 0, let autoNode {
            fail(
                autoNode,
                "'actions.approved_only.auto: true' runs at once when the failover is seen, so it cannot also need \(approvals) approval\(approvals == 1 ? "" : "s"); set approvals: 0 or auto: false"
            )
        }
        guard let approvedNode else {
            fail(node, "'actions.approved_only' needs 'approved' with 'cidrs' and/or 'groups'")
            return nil
        }
        guard let sources = approvedNode.mapping else {
            fail(approvedNode, "'actions.approved_only.approved' must be a mapping with 'cidrs' and/or 'groups'")
            return nil
        }
        for (key, value) in sources {
            let items: [Node]
            if let sequence = value.sequence {
                items = Array(sequence)
            } else if value.scalar != nil, value.null == nil {
                items = [value]
            } else {
                items = []
            }
            switch key.string {
            case "cidrs":
                for item in items {
                    guard let text = item.scalar?.string else {
                        fail(item, "'actions.approved_only.approved.cidrs' must list addresses or CIDRs")
                        continue
                    }
                    do {
                        let cidr = try ApprovedOnlySettings.sourceCIDR(text)
                        if !settings.cidrs.contains(cidr) { settings.cidrs.append(cidr) }
                    } catch {
                        fail(item, "'actions.approved_only.approved.cidrs': \(error.description)")
                    }
                }
            case "groups":
                for item in items {
                    let name = item.scalar?.string.trimmingCharacters(in: .whitespaces) ?? ""
                    // Meraki's own rule for group names: letters, digits, spaces, dashes and underscores.
                    guard !name.isEmpty, name.count <= 255, name.allSatisfy({ $0.isLetter || $0.isNumber || " -_".contains($0) }) else {
                        fail(
                            item,
                            "'actions.approved_only.approved.groups' must list Meraki policy-object group names (letters, digits, space, dash, underscore)"
                        )
                        continue
                    }
                    if !settings.groups.contains(name) { settings.groups.append(name) }
                }
            default:
                fail(key, "unknown key '\(key.string ?? "?")' in actions.approved_only.approved; expected cidrs, groups")
            }
        }
        if ok, settings.cidrs.isEmpty, settings.groups.isEmpty {
            fail(
                approvedNode,
                "'actions.approved_only.approved' lists no CIDR and no group: the deny rule would cut every device off the cellular uplink")
        }
        return ok ? settings : nil
    }
}
