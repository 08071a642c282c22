import Foundation
import SentryConnectors
import SentryCore

/// Approved-only: the network's cellular failover rules allow the approved sources and deny the rest.
///
/// The rules are planned (policy-object groups resolved) and journaled before the first write, so a run repeated
/// after a crash writes exactly what the first one meant to, and finds it by marker if it landed.
extension LiveContainmentExecutor {
    static let journalRulesKey = "cellular.rules"

    func applyApprovedOnly(_ containment: Containment) async throws -> String {
        guard let meraki else { throw ContainmentError.notConfigured(.approvedOnly) }
        let planned = try await plannedRules(containment, meraki: meraki)
        let settings = containment.approvedOnly ?? ApprovedOnlySettings(cidrs: [])
        let network = containment.target
        let change: MerakiClient.RuleChange
        do {
            change = try await meraki.addCellularRules(
                networkID: network, marker: Self.marker(containment.id), rules: planned.map(MerakiFirewallRule.init), ours: settings.placement)
        } catch let error as MerakiError {
            throw classify(error, network: network)
        }
        let how = change == .alreadyPresent ? "were already in place" : "written"
        return "Cellular failover rules on `\(network)` \(how) (ours \(settings.placement == .first ? "before" : "after") other admins' rules):\n"
            + CellularRulePlan.describe(planned)
    }

    func restoreApprovedOnly(_ containment: Containment) async throws -> String {
        guard let meraki else { throw ContainmentError.notConfigured(.approvedOnly) }
        let network = containment.target
        do {
            let change = try await meraki.removeCellularRules(networkID: network, marker: Self.marker(containment.id))
            return change == .removed
                ? "Our cellular rules removed from `\(network)`; other admins' cellular rules are as they were."
                : "None of our cellular rules were left on `\(network)`; nothing written."
        } catch let error as MerakiError where error.isNotFound {
            return "`\(network)` has no appliance any more; nothing to remove."
        } catch let error as MerakiError {
            throw classify(error, network: network)
        }
    }

    /// The rules this containment writes: the journaled plan, or a new one (groups resolved now) journaled first.
    func plannedRules(_ containment: Containment, meraki: MerakiClient) async throws -> [PlannedCellularRule] {
        if let saved = try await journal.recall(containmentID: containment.id)[Self.journalRulesKey], let rules = Self.decodeRules(saved) {
            return rules
        }
        guard let settings = containment.approvedOnly else {
            throw ContainmentError.permanent("this approved-only containment carries no approved sources")
        }
        var groups: [String: [String]] = [:]
        if !settings.groups.isEmpty {
            let known = try await merakiCall { try await meraki.policyObjectGroups() }
            let objects = try await merakiCall { try await meraki.policyObjects() }
            do {
                groups = try MerakiPolicyObjectResolver.resolve(names: settings.groups, groups: known, objects: objects)
            } catch {
                throw ContainmentError.permanent("cannot write approved-only: \(error.description); nothing was written")
            }
        }
        let rules = CellularRulePlan.rules(containmentID: containment.id, settings: settings, groups: groups)
        let saved = try await journal.remember(containmentID: containment.id, key: Self.journalRulesKey, value: Self.encodeRules(rules))
        return Self.decodeRules(saved) ?? rules
    }

    func classify(_ error: MerakiError, network: String) -> ContainmentError {
        let said = sentence(error, network: network)
        if error.isNotFound { return .permanent("`\(network)` has no appliance (MX) with cellular failover rules") }
        return error.isRetryable ? .transient("\(network): \(said)") : .permanent("\(network): \(said)")
    }

    static func encodeRules(_ rules: [PlannedCellularRule]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(rules)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    static func decodeRules(_ text: String) -> [PlannedCellularRule]? {
        guard let rules = try? JSONDecoder().decode([PlannedCellularRule].self, from: Data(text.utf8)), !rules.isEmpty else { return nil }
        return rules
    }
}
