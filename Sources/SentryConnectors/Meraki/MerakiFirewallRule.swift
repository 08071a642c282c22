import SentryCore

/// One rule of an MX appliance's L3 (outbound) firewall, kept as the API's JSON object so a read-modify-write
/// sends back fields this code does not know about unchanged.
public struct MerakiFirewallRule: Sendable, Equatable {
    public var fields: [String: JSONValue]

    public init(fields: [String: JSONValue]) {
        self.fields = fields
    }

    public init(
        comment: String,
        policy: String,
        ipProtocol: String,
        srcCidr: String,
        srcPort: String = "Any",
        destCidr: String,
        destPort: String = "Any",
        syslogEnabled: Bool = false
    ) {
        fields = [
            "comment": .string(comment), "policy": .string(policy), "protocol": .string(ipProtocol),
            "srcCidr": .string(srcCidr), "srcPort": .string(srcPort), "destCidr": .string(destCidr),
            "destPort": .string(destPort), "syslogEnabled": .bool(syslogEnabled),
        ]
    }

    public var comment: String {
        get { fields["comment"]?.stringValue ?? "" }
        set { fields["comment"] = .string(newValue) }
    }
    public var policy: String { fields["policy"]?.stringValue ?? "" }
    public var ipProtocol: String { fields["protocol"]?.stringValue ?? "" }
    public var srcCidr: String { fields["srcCidr"]?.stringValue ?? "" }
    public var srcPort: String { fields["srcPort"]?.stringValue ?? "Any" }
    public var destCidr: String { fields["destCidr"]?.stringValue ?? "" }
    public var destPort: String { fields["destPort"]?.stringValue ?? "Any" }
    public var syslogEnabled: Bool { fields["syslogEnabled"]?.boolValue ?? false }

    public var json: JSONValue { .object(fields) }

    /// The rule the API appends to every list it returns: `"Default rule"`, allow, any protocol, any
    /// addresses and ports. It is not part of the configurable list and is never sent back.
    public var isDefaultRule: Bool {
        comment == "Default rule" && policy.lowercased() == "allow"
            && [ipProtocol, srcCidr, srcPort, destCidr, destPort].allSatisfy { $0.lowercased() == "any" }
    }

    /// True when `marker` appears in the comment as a whole word, so `sentry:C-1` does not match
    /// `sentry:C-12` and an admin may add text around it.
    public func carries(marker: String) -> Bool {
        guard !marker.isEmpty else { return false }
        return comment.split(whereSeparator: { $0.isWhitespace || "[](),;".contains($0) }).contains { $0 == marker }
    }

    /// The rule's matching fields, normalised the way the API may rewrite them (case, spaces after commas), to
    /// recognise a rule in an answer. `syslogEnabled` is left out: the API may reset it when no syslog server
    /// is configured.
    var identity: String {
        [comment, policy, ipProtocol, srcCidr, srcPort, destCidr, destPort]
            .map { $0.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ",") }
            .joined(separator: "\u{1F}")
    }

    /// Our containment rule. The appliance's L3 rules are outbound: they match flows started behind the MX
    /// (towards the internet, other VLANs, site-to-site VPN). So the rule denies any protocol, any port, from
    /// any internal source to `destinationCIDR`: nothing inside can open a connection to the address or send
    /// it data. It does not block what the address starts towards us: WAN-side traffic is governed by the
    /// inbound rules, port forwarding and 1:1 NAT, and the MX is stateful. Nor does it stop a host *inside*
    /// that has the address (a client of the network) from talking to others; its device policy does that.
    static func deny(destinationCIDR: String, comment: String) -> MerakiFirewallRule {
        MerakiFirewallRule(
            comment: comment, policy: "deny", ipProtocol: "any", srcCidr: "Any", srcPort: "Any",
            destCidr: destinationCIDR, destPort: "Any", syslogEnabled: false)
    }

    /// `destination` as the CIDR a rule takes: an address becomes a /32 (or /128); the prefix must be a
    /// real narrowing, since a /0 would cut the whole network off.
    static func cidr(for destination: String) throws -> String {
        let text = destination.trimmingCharacters(in: .whitespaces)
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else {
            throw MerakiError.invalidArgument("destination \"\(destination)\" is not an IP address or CIDR")
        }
        let maximum = address.family == .v4 ? 32 : 128
        guard parts.count == 2 else { return "\(address)/\(maximum)" }
        guard let prefix = Int(parts[1]), (1...maximum).contains(prefix) else {
            throw MerakiError.invalidArgument("destination \"\(destination)\" needs a prefix length of 1 to \(maximum)")
        }
        return "\(address)/\(prefix)"
    }
}

/// An appliance's L3 firewall as the API returns it, split into the configurable rules and the default rule.
public struct MerakiL3FirewallRules: Sendable, Equatable {
    /// The configured rules in order, without the default rule.
    public var rules: [MerakiFirewallRule]
    /// The trailing default rule the API appended, when it did.
    public var defaultRule: MerakiFirewallRule?
    /// Whether the default rule is logged to syslog: the `syslogDefaultRule` field when the answer has it,
    /// else the default rule's `syslogEnabled`; nil when neither was there (a PUT then leaves it as it is).
    public var syslogDefaultRule: Bool?

    public init(rules: [MerakiFirewallRule], defaultRule: MerakiFirewallRule? = nil, syslogDefaultRule: Bool? = nil) {
        self.rules = rules
        self.defaultRule = defaultRule
        self.syslogDefaultRule = syslogDefaultRule
    }

    init?(json: JSONValue) {
        guard let list = json["rules"]?.arrayValue else { return nil }
        var rules: [MerakiFirewallRule] = []
        for item in list {
            guard let object = item.objectValue else { return nil }
            rules.append(MerakiFirewallRule(fields: object))
        }
        if let last = rules.last, last.isDefaultRule {
            defaultRule = rules.removeLast()
        }
        self.rules = rules
        syslogDefaultRule = json["syslogDefaultRule"]?.boolValue ?? defaultRule?.fields["syslogEnabled"]?.boolValue
    }
}
