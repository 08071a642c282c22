import Foundation

/// What an `approved_only` containment writes to a network's cellular failover rules, and when it runs.
public struct ApprovedOnlySettings: Codable, Equatable, Sendable {
    /// Where our rules go among the rules other admins keep in the cellular list.
    public enum Placement: String, Codable, Sendable, CaseIterable {
        /// Ours first: the strict reading of "approved devices only"; others' rules stay but match nothing new.
        case first
        /// Others' rules first: their exceptions (allow or deny) still apply before ours.
        case last
    }

    /// Applied at once when the failover is seen, without approvals.
    public var auto: Bool
    /// Seconds the primary uplink must stay active before the rules are removed.
    public var debounce: Int
    /// Approved source CIDRs, canonical.
    public var cidrs: [String]
    /// Meraki policy-object group names, resolved when the rules are written.
    public var groups: [String]
    public var placement: Placement

    public static let defaultDebounce = 30

    public init(
        auto: Bool = false, debounce: Int = ApprovedOnlySettings.defaultDebounce, cidrs: [String], groups: [String] = [],
        placement: Placement = .first
    ) {
        self.auto = auto
        self.debounce = debounce
        self.cidrs = cidrs
        self.groups = groups
        self.placement = placement
    }

    /// An approved source as a rule takes it: an address or CIDR with no host bits set; a /0 would approve everyone.
    public static func sourceCIDR(_ text: String) throws(BlockTarget.Invalid) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else {
            throw BlockTarget.Invalid(description: "`\(trimmed.prefix(50))` is not an IP address or CIDR")
        }
        let maximum = address.family == .v4 ? 32 : 128
        var bits = maximum
        if parts.count == 2 {
            guard let prefix = Int(parts[1]), (1...maximum).contains(prefix) else {
                throw BlockTarget.Invalid(
                    description: "`\(trimmed.prefix(50))` needs a prefix length of 1 to \(maximum) (a /0 would approve everyone)")
            }
            bits = prefix
        }
        guard BlockTarget.hostBitsAreZero(address.bytes, prefix: bits) else {
            throw BlockTarget.Invalid(description: "`\(trimmed)` has host bits set; did you mean the network address of that /\(bits)?")
        }
        return "\(address)/\(bits)"
    }
}

/// One rule approved-only puts in the cellular list: what the executor writes and what a dry run shows.
public struct PlannedCellularRule: Codable, Equatable, Sendable {
    public var policy: String
    /// Comma-separated CIDRs, or `Any`.
    public var srcCidr: String
    public var comment: String

    public init(policy: String, srcCidr: String, comment: String) {
        self.policy = policy
        self.srcCidr = srcCidr
        self.comment = comment
    }

    /// `allow 10.20.0.0/24 → any (sentry:C-1 approved 10.20.0.0/24)`.
    public var text: String { "\(policy) \(srcCidr == "Any" ? "any source" : srcCidr) → any destination (\(comment))" }
}

/// The rules of one approved-only containment: an allow rule per approved CIDR and per group, then a deny for the rest.
public enum CellularRulePlan {
    public static func marker(_ containmentID: String) -> String { "sentry:\(containmentID)" }

    /// `groups` maps each group name to its CIDRs; a name missing from it is shown as `group:NAME` (a dry run that
    /// could not resolve it).
    public static func rules(containmentID: String, settings: ApprovedOnlySettings, groups: [String: [String]] = [:]) -> [PlannedCellularRule] {
        let marker = marker(containmentID)
        var rules = settings.cidrs.map { PlannedCellularRule(policy: "allow", srcCidr: $0, comment: "\(marker) approved \($0)") }
        for name in settings.groups {
            let source = groups[name].map { $0.joined(separator: ",") } ?? "group:\(name)"
            rules.append(PlannedCellularRule(policy: "allow", srcCidr: source, comment: "\(marker) approved group \(name)"))
        }
        rules.append(PlannedCellularRule(policy: "deny", srcCidr: "Any", comment: "\(marker) everything else while on cellular"))
        return rules
    }

    /// Numbered lines for a thread reply or the terminal.
    public static func describe(_ rules: [PlannedCellularRule]) -> String {
        rules.enumerated().map { "\($0.offset + 1). \($0.element.text)" }.joined(separator: "\n")
    }
}

/// An appliance's uplink moved, as the collector, MX syslog or a webhook saw it; routed to the alerts it concerns.
public struct UplinkChange: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable {
        /// The appliance now runs on its cellular uplink.
        case cellularFailover = "cellular_failover"
        /// A wired (primary) uplink carries the traffic again.
        case primaryActive = "primary_active"
    }

    public var kind: Kind
    public var networkID: String
    public var serial: String?
    public var at: Date
    /// `meraki-uplinks`, `syslog` or `webhook`.
    public var source: String
    /// Live approved-only containments of this network held by other alerts (the caller looks them up).
    public var heldElsewhere: [String]
    /// `SENTRY_DRY_RUN=1`: an automatic containment is recorded and shown, never executed.
    public var dryRun: Bool

    public init(kind: Kind, networkID: String, serial: String? = nil, at: Date, source: String, heldElsewhere: [String] = [], dryRun: Bool = false) {
        self.kind = kind
        self.networkID = networkID
        self.serial = serial
        self.at = at
        self.source = source
        self.heldElsewhere = heldElsewhere
        self.dryRun = dryRun
    }

    /// What an uplink event means for approved-only: failover to cellular, a wired uplink active again (the
    /// collector's `uplink_recovered`, or syslog's `failover to wanN`), or nothing.
    public static func kind(action: String, interface: String?) -> Kind? {
        switch action {
        case "uplink_failover":
            guard let interface else { return nil }
            return UplinkTracker.isCellular(interface) ? .cellularFailover : .primaryActive
        case "uplink_recovered":
            return .primaryActive
        default:
            return nil
        }
    }

    /// The change a detection tells (its evidence carries `change` and `interface`), when it has a network.
    public static func from(_ detection: Detection, receivedAt: Date? = nil) -> UplinkChange? {
        guard let network = detection.subject.merakiNetworkID, let action = detection.evidence?["change"]?.stringValue,
            let kind = kind(action: action, interface: detection.evidence?["interface"]?.stringValue)
        else { return nil }
        return UplinkChange(
            kind: kind, networkID: network, serial: detection.subject.merakiSerial,
            // Without `occurred_at`, when it arrived: 1970 would make every later failover of the alert look like this one.
            at: detection.occurredAt ?? receivedAt ?? Date(timeIntervalSince1970: 0),
            source: detection.evidence?["source"]?.stringValue ?? "webhook")
    }
}

extension Alert {
    /// Whether the alert is about an appliance failing over to cellular (what approved-only answers).
    public var isCellularFailover: Bool {
        guard subject.merakiNetworkID != nil, let evidence else { return false }
        return UplinkChange.kind(action: evidence["change"]?.stringValue ?? "", interface: evidence["interface"]?.stringValue) == .cellularFailover
    }
}
