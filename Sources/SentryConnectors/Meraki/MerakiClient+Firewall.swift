import SentryCore

extension MerakiClient {
    /// What a containment write did to a network's L3 rules.
    public enum RuleChange: Sendable, Equatable {
        case added
        /// A rule with the marker was there already; nothing was written.
        case alreadyPresent
        case removed
        /// No rule with the marker was there; nothing was written.
        case notPresent
    }

    /// The appliance's L3 (outbound) rules. A network without an appliance answers 404 (`MerakiError.isNotFound`).
    public func l3FirewallRules(networkID: String) async throws -> MerakiL3FirewallRules {
        try await firewallRules(.l3, networkID: networkID)
    }

    /// Replaces the whole rule list. A trailing default rule in `rules` is left out (the API takes the list
    /// without it); `syslogDefaultRule` nil leaves that setting as it is. The answer must hold every rule sent,
    /// else `MerakiError.rulesNotPreserved`. Not repeated after a 5xx or a timeout, since the list may be stale
    /// by then: re-read and decide again (`addDenyRule` and `removeRule` do).
    @discardableResult
    public func updateL3FirewallRules(
        networkID: String,
        rules: [MerakiFirewallRule],
        syslogDefaultRule: Bool? = nil
    ) async throws -> MerakiL3FirewallRules {
        try await updateFirewallRules(.l3, networkID: networkID, rules: rules, syslogDefaultRule: syslogDefaultRule)
    }

    /// One of the appliance's rule lists, as read.
    func firewallRules(_ list: MerakiFirewallList, networkID: String) async throws -> MerakiL3FirewallRules {
        let answer = try await execute(list.getOperation, method: "GET", url: url(path(list, networkID)), safeToRepeat: true)
        guard let json = JSONValue.parse(answer.response.body), let rules = MerakiL3FirewallRules(json: json) else {
            throw MerakiError.malformedResponse("\(list.getOperation): no rules list")
        }
        return rules
    }

    /// Replaces one of the lists whole; `syslogDefaultRule` only exists for the L3 list.
    func updateFirewallRules(
        _ list: MerakiFirewallList, networkID: String, rules: [MerakiFirewallRule], syslogDefaultRule: Bool?
    ) async throws -> MerakiL3FirewallRules {
        var sent = rules
        if let last = sent.last, last.isDefaultRule { sent.removeLast() }
        var body: [String: JSONValue] = ["rules": .array(sent.map(\.json))]
        if list == .l3 { body["syslogDefaultRule"] = syslogDefaultRule.map(JSONValue.bool) }
        let answer = try await execute(list.putOperation, method: "PUT", url: url(path(list, networkID)), body: .object(body), safeToRepeat: false)
        return try checkPreserved(answer, sent: sent, operation: list.putOperation, networkID: networkID)
    }

    /// The answer to a PUT of a whole list, which must hold every rule sent (`MerakiError.rulesNotPreserved`).
    func checkPreserved(_ answer: Answer, sent: [MerakiFirewallRule], operation: String, networkID: String) throws -> MerakiL3FirewallRules {
        guard let json = JSONValue.parse(answer.response.body), let stored = MerakiL3FirewallRules(json: json) else {
            throw MerakiError.malformedResponse("\(operation): no rules list")
        }
        var remaining = Dictionary(grouping: stored.rules, by: \.identity).mapValues(\.count)
        for rule in sent {
            guard let count = remaining[rule.identity], count > 0 else {
                logger.error(
                    "meraki firewall update answered without rules that were sent",
                    metadata: [
                        "meraki.network_id": "\(networkID)", "meraki.rules_sent": "\(sent.count)", "meraki.rules_answered": "\(stored.rules.count)",
                    ])
                throw MerakiError.rulesNotPreserved(networkID: networkID)
            }
            remaining[rule.identity] = count - 1
        }
        return stored
    }

    /// Puts a deny rule for `destination` (an IP or CIDR) at the top of the network's L3 rules, with `marker`
    /// (e.g. `sentry:C-123`, no spaces) leading its comment. Idempotent by marker: if a rule carries it already,
    /// nothing is written. Every other rule, and `syslogDefaultRule`, is written back as read. See
    /// `MerakiFirewallRule.deny` for what the rule blocks and what it does not.
    public func addDenyRule(networkID: String, destination: String, marker: String, comment: String) async throws -> RuleChange {
        try Self.validate(marker: marker)
        let cidr = try MerakiFirewallRule.cidr(for: destination)
        let text = comment.trimmingCharacters(in: .whitespacesAndNewlines)
        let rule = MerakiFirewallRule.deny(destinationCIDR: cidr, comment: text.isEmpty ? marker : "\(marker) \(text)")
        let change = try await rewrite(networkID: networkID, marker: marker) { current, wroteBefore in
            if current.rules.contains(where: { $0.carries(marker: marker) }) {
                return .done(wroteBefore ? .added : .alreadyPresent)
            }
            return .write([rule] + current.rules, .added)
        }
        logger.info(
            "meraki deny rule \(change == .added ? "added" : "already present")",
            metadata: ["meraki.network_id": "\(networkID)", "meraki.marker": "\(marker)", "meraki.destination": "\(cidr)"])
        return change
    }

    /// Removes the rules carrying `marker`, and only those: whatever other admins added or changed since
    /// stays as it is now.
    public func removeRule(networkID: String, marker: String) async throws -> RuleChange {
        try Self.validate(marker: marker)
        let change = try await rewrite(networkID: networkID, marker: marker) { current, wroteBefore in
            let kept = current.rules.filter { !$0.carries(marker: marker) }
            if kept.count == current.rules.count {
                return .done(wroteBefore ? .removed : .notPresent)
            }
            return .write(kept, .removed)
        }
        logger.info(
            "meraki rule \(change == .removed ? "removed" : "not present")",
            metadata: ["meraki.network_id": "\(networkID)", "meraki.marker": "\(marker)"])
        return change
    }

    // MARK: read-modify-write

    enum RewritePlan: Sendable {
        case done(RuleChange)
        case write([MerakiFirewallRule], RuleChange)
    }

    /// Reads the list, lets `plan` decide, writes, all under the network's lock. A write that failed in a way
    /// that may be transient is not repeated blindly: the list is read again and `plan` decides again, with
    /// `wroteBefore` telling it an earlier write may have landed.
    func rewrite(
        networkID: String,
        marker: String,
        list: MerakiFirewallList = .l3,
        plan: @escaping @Sendable (_ current: MerakiL3FirewallRules, _ wroteBefore: Bool) -> RewritePlan
    ) async throws -> RuleChange {
        // One lock per network for both lists: simpler to reason about, and writes are rare.
        try await locks.withLock(networkID) {
            var wroteBefore = false
            var attempt = 0
            while true {
                attempt += 1
                let current = try await firewallRules(list, networkID: networkID)
                switch plan(current, wroteBefore) {
                case .done(let change):
                    return change
                case .write(let rules, let change):
                    do {
                        try await updateFirewallRules(list, networkID: networkID, rules: rules, syslogDefaultRule: current.syslogDefaultRule)
                        return change
                    } catch let error as MerakiError where Self.worthReadingAgain(error) && attempt < retry.maxAttempts {
                        if Self.mayHaveBeenApplied(error) { wroteBefore = true }
                        let delay = retry.backoff(afterAttempt: attempt)
                        logger.warning(
                            "meraki firewall write failed; reading again before retrying",
                            metadata: [
                                "meraki.network_id": "\(networkID)", "meraki.marker": "\(marker)", "meraki.error": "\(error)",
                                "meraki.attempt": "\(attempt)", "meraki.retry_in": "\(delay)",
                            ])
                        try await sleep(delay)
                    }
                }
            }
        }
    }

    /// A rate limit was already waited out in `execute` as far as the policy allows; what is left goes to the
    /// caller. Other transient failures may have left the write done or not: read again and decide.
    private static func worthReadingAgain(_ error: MerakiError) -> Bool {
        if case .rateLimited = error { return false }
        return error.isRetryable
    }

    private static func mayHaveBeenApplied(_ error: MerakiError) -> Bool {
        switch error {
        case .rateLimited: false
        case .transport(let transport): transport.mayHaveBeenDelivered
        default: true
        }
    }

    static func validate(marker: String) throws {
        guard !marker.isEmpty, !marker.contains(where: { $0.isWhitespace || "[](),;".contains($0) }) else {
            throw MerakiError.invalidArgument("marker \"\(marker)\" must be one word without brackets, commas or semicolons")
        }
    }

    private func path(_ list: MerakiFirewallList, _ networkID: String) -> String {
        "/networks/\(Self.segment(networkID))/appliance/firewall/\(list.resource)"
    }
}
