import SentryCore

/// Which of an appliance's rule lists a read-modify-write works on.
public enum MerakiFirewallList: Sendable, Equatable {
    /// `l3FirewallRules`: outbound rules, always applied.
    case l3
    /// `cellularFirewallRules`: applied by the MX only while it runs on its cellular uplink.
    case cellular

    /// The list's resource under `/networks/{id}/appliance/firewall/`.
    var resource: String { self == .l3 ? "l3FirewallRules" : "cellularFirewallRules" }
    /// The Dashboard API's operation names, for logs and errors.
    var getOperation: String { self == .l3 ? "getNetworkApplianceFirewallL3FirewallRules" : "getNetworkApplianceFirewallCellularFirewallRules" }
    var putOperation: String { self == .l3 ? "updateNetworkApplianceFirewallL3FirewallRules" : "updateNetworkApplianceFirewallCellularFirewallRules" }
}

extension MerakiClient {
    /// The appliance's cellular failover rules. Like the L3 list, the answer ends with a default rule that is not
    /// part of the configurable list. A network without an appliance answers 404.
    public func cellularFirewallRules(networkID: String) async throws -> MerakiL3FirewallRules {
        try await firewallRules(.cellular, networkID: networkID)
    }

    /// Replaces the whole cellular list (the body takes `rules` only). A trailing default rule is left out; the
    /// answer must hold every rule sent. Not repeated blindly after a 5xx or a timeout (see `rewrite`).
    @discardableResult
    public func updateCellularFirewallRules(networkID: String, rules: [MerakiFirewallRule]) async throws -> MerakiL3FirewallRules {
        try await updateFirewallRules(.cellular, networkID: networkID, rules: rules, syslogDefaultRule: nil)
    }

    /// Puts `rules` (each carrying `marker`) into the network's cellular list, before or after the rules already
    /// there. Idempotent by marker: when a rule carries it already, nothing is written. Other admins' rules are
    /// written back as read.
    public func addCellularRules(networkID: String, marker: String, rules: [MerakiFirewallRule], ours placement: ApprovedOnlySettings.Placement)
        async throws -> RuleChange
    {
        try Self.validate(marker: marker)
        guard !rules.isEmpty, rules.allSatisfy({ $0.carries(marker: marker) }) else {
            throw MerakiError.invalidArgument("every cellular rule must carry the marker \(marker)")
        }
        let change = try await rewrite(networkID: networkID, marker: marker, list: .cellular) { current, wroteBefore in
            if current.rules.contains(where: { $0.carries(marker: marker) }) {
                return .done(wroteBefore ? .added : .alreadyPresent)
            }
            return .write(placement == .first ? rules + current.rules : current.rules + rules, .added)
        }
        logger.info(
            "meraki cellular rules \(change == .added ? "added" : "already present")",
            metadata: ["meraki.network_id": "\(networkID)", "meraki.marker": "\(marker)", "meraki.rules": "\(rules.count)"])
        return change
    }

    /// Removes the cellular rules carrying `marker`, and only those.
    public func removeCellularRules(networkID: String, marker: String) async throws -> RuleChange {
        try Self.validate(marker: marker)
        let change = try await rewrite(networkID: networkID, marker: marker, list: .cellular) { current, wroteBefore in
            let kept = current.rules.filter { !$0.carries(marker: marker) }
            if kept.count == current.rules.count {
                return .done(wroteBefore ? .removed : .notPresent)
            }
            return .write(kept, .removed)
        }
        logger.info(
            "meraki cellular rules \(change == .removed ? "removed" : "not present")",
            metadata: ["meraki.network_id": "\(networkID)", "meraki.marker": "\(marker)"])
        return change
    }

}

extension MerakiFirewallRule {
    /// A planned approved-only rule as the API takes it: any protocol, any port, to any destination.
    public init(_ planned: PlannedCellularRule) {
        self.init(
            comment: planned.comment, policy: planned.policy, ipProtocol: "any", srcCidr: planned.srcCidr, srcPort: "Any",
            destCidr: "Any", destPort: "Any", syslogEnabled: false)
    }
}
