import SentryCore

extension EffectRunner {
    /// What a dry run says in the thread instead of executing: for approved-only, the rules it would write.
    static func dryRunReport(_ item: Containment, phase: ContainmentPhase) -> String {
        guard item.kind == .approvedOnly, phase == .execute, let settings = item.approvedOnly else {
            return "Dry run: nothing was \(phase == .execute ? "executed" : "rolled back")."
        }
        let rules = CellularRulePlan.rules(containmentID: item.id, settings: settings)
        return
            "Dry run: nothing was executed. It would write these cellular failover rules on `\(item.target)` (policy-object groups resolved at run time), \(settings.placement == .first ? "before" : "after") other admins' rules:\n"
            + CellularRulePlan.describe(rules)
    }
}
