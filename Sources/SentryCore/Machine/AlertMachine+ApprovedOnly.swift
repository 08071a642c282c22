import Foundation

/// Approved-only (LTE failover): applied when an appliance fails over to cellular (at once with `auto: true`),
/// rolled back once its primary uplink has stayed active for the debounce. A failover seen again inside the
/// debounce cancels the pending rollback, so a flapping uplink costs no write at all while it flaps.
extension AlertMachine {
    /// Who releases a containment when the primary uplink is back (as `releasedBy` and on the audit trail).
    public static let recoveryActor = "uplink-recovery"
    /// Who requests an `auto: true` containment.
    public static let autoActor = "sentry"

    static func uplinkChanged(_ alert: Alert, _ change: UplinkChange, now: Date) -> Transition {
        switch change.kind {
        case .cellularFailover: failedOver(alert, change, now: now)
        case .primaryActive: primaryActive(alert, change, now: now)
        }
    }

    /// The live approved-only containment of a network on this alert, if any.
    static func liveApprovedOnly(_ alert: Alert, network: String) -> Int? {
        alert.containments.firstIndex { $0.kind == .approvedOnly && $0.target == network && !$0.status.isFinal }
    }

    /// The approved-only containment that restricts a network on this alert: requested, being written or in place.
    /// One being rolled back or one that failed does not: a new failover then gets rules of its own.
    static func restrictingApprovedOnly(_ alert: Alert, network: String) -> Int? {
        alert.containments.firstIndex {
            $0.kind == .approvedOnly && $0.target == network && [.awaitingApproval, .executing, .active].contains($0.status)
        }
    }

    private static func failedOver(_ alert: Alert, _ change: UplinkChange, now: Date) -> Transition {
        if let index = restrictingApprovedOnly(alert, network: change.networkID) {
            var item = alert.containments[index]
            guard let back = item.primaryBackAt else {
                return Transition(alert: alert, outcome: .ignored("\(item.id) already restricts \(change.networkID)"))
            }
            // A failover older than the recovery (one source reporting late) is old news, not a flap.
            guard change.at >= back else {
                return Transition(alert: alert, outcome: .ignored("a failover of \(change.networkID) older than its recovery"))
            }
            // A flap: the rules never left, so nothing is written, now or when the primary is back for good.
            item.primaryBackAt = nil
            var next = alert
            next.containments[index] = item
            next.updatedAt = now
            let after = elapsed(Int(change.at.timeIntervalSince(back)))
            return Transition(
                alert: next, outcome: .applied,
                effects: [
                    .cancelTimer(.primaryRestored(item.id)), .updateMessage,
                    .replyInThread(
                        text:
                            ":arrows_counterclockwise: `\(change.networkID)` failed over to cellular again \(after) after its primary uplink came back; \(item.label) stays in place (nothing written)."
                    ),
                ],
                audit: AuditRecord(
                    action: "containment.flap", actor: "sentry",
                    detail: "\(item.id) \(change.networkID) back on cellular via \(change.source); rollback cancelled"))
        }
        if let other = change.heldElsewhere.first {
            return Transition(alert: alert, outcome: .ignored("\(change.networkID) is already restricted by \(other)"))
        }
        guard !alert.status.isFinished, alert.isCellularFailover, alert.subject.merakiNetworkID == change.networkID,
            let action = alert.policy.actions.first(where: { $0.kind == .approvedOnly }), let settings = action.approvedOnly, settings.auto
        else {
            return Transition(alert: alert, outcome: .ignored("no automatic approved-only for \(change.networkID) on this alert"))
        }
        let id = "C-" + String(alert.id.dropFirst(2).prefix(12)) + "-" + String(Int(change.at.timeIntervalSince1970))
        guard !alert.containments.contains(where: { $0.id == id }) else {
            return Transition(alert: alert, outcome: .ignored("\(id) already ran for this failover"))
        }
        var containment = Containment(
            id: id, kind: .approvedOnly, target: change.networkID, reason: "automatic: failover to cellular (\(change.source))",
            ttl: action.ttl, requestedBy: autoActor, requestedAt: now, approvalsRequired: 0, approvals: [], status: .executing, dryRun: change.dryRun)
        containment.approvedOnly = settings
        containment.failoverAt = change.at
        var next = alert
        next.containments.append(containment)
        next.updatedAt = now
        let rules = CellularRulePlan.describe(CellularRulePlan.rules(containmentID: id, settings: settings))
        return Transition(
            alert: next, outcome: .applied,
            effects: [
                .updateMessage,
                .replyInThread(
                    text:
                        ":satellite_antenna: `\(change.networkID)` failed over to cellular: Sentry applied \(containment.label) automatically (the playbook says `auto: true`), for at most \(DurationText.format(action.ttl)) or until the primary uplink is back\(change.dryRun ? " (dry run: recorded and shown, never executed)" : ""). Cellular rules (policy-object groups resolved when written):\n\(AlertMessage.escape(rules))"
                ),
                .executeContainment(id: id),
            ],
            audit: AuditRecord(
                action: "containment.requested", actor: autoActor,
                detail: "\(id) approved_only \(change.networkID) auto via \(change.source) ttl=\(DurationText.format(action.ttl))"))
    }

    private static func primaryActive(_ alert: Alert, _ change: UplinkChange, now: Date) -> Transition {
        // The one restricting the network, else one that failed (its rules may be there): not one already rolling back.
        let candidates = alert.containments.indices.filter {
            alert.containments[$0].kind == .approvedOnly && alert.containments[$0].target == change.networkID
                && !alert.containments[$0].status.isFinal && alert.containments[$0].status != .releasing
        }
        guard
            let index = restrictingApprovedOnly(alert, network: change.networkID) ?? candidates.first
                ?? liveApprovedOnly(alert, network: change.networkID)
        else {
            return Transition(alert: alert, outcome: .ignored("no approved-only on \(change.networkID) here"))
        }
        var item = alert.containments[index]
        var next = alert
        next.updatedAt = now
        switch item.status {
        case .awaitingApproval:
            // Nothing was written yet, and cellular rules no longer apply: the request has no purpose left.
            item.status = .rejected
            item.rejectedBy = recoveryActor
            next.containments[index] = item
            return Transition(
                alert: next, outcome: .applied,
                effects: [
                    .updateMessage,
                    .replyInThread(
                        text:
                            ":electric_plug: The primary uplink of `\(change.networkID)` is active again; \(item.label) is withdrawn before anyone approved it. Nothing was written."
                    ),
                ],
                audit: AuditRecord(
                    action: "containment.withdrawn", actor: recoveryActor, detail: "\(item.id) primary uplink active via \(change.source)"))
        case .executing, .active, .failed:
            if let failover = item.failoverAt, change.at < failover {
                return Transition(alert: alert, outcome: .ignored("a recovery of \(change.networkID) older than its failover"))
            }
            guard item.primaryBackAt == nil else {
                return Transition(alert: alert, outcome: .ignored("\(item.id) already waits for the primary uplink to stay up"))
            }
            let debounce = item.approvedOnly?.debounce ?? ApprovedOnlySettings.defaultDebounce
            item.primaryBackAt = change.at
            next.containments[index] = item
            return Transition(
                alert: next, outcome: .applied,
                effects: [
                    .scheduleTimer(.primaryRestored(item.id), at: now.addingTimeInterval(TimeInterval(debounce))), .updateMessage,
                    .replyInThread(
                        text:
                            ":electric_plug: The primary uplink of `\(change.networkID)` is active again (\(change.source)). \(item.label) is rolled back once it has stayed up for \(DurationText.format(debounce))."
                    ),
                ],
                audit: AuditRecord(
                    action: "containment.primary_back", actor: recoveryActor,
                    detail: "\(item.id) via \(change.source); rollback after \(DurationText.format(debounce))"))
        case .releasing, .released, .rejected:
            return Transition(alert: alert, outcome: .ignored("\(item.id) is \(item.status.rawValue)"))
        }
    }

    static func primaryRestored(_ alert: Alert, _ id: String, now: Date) -> Transition {
        guard let index = alert.containments.firstIndex(where: { $0.id == id }) else {
            return Transition(alert: alert, outcome: .ignored("unknown containment \(id)"))
        }
        var item = alert.containments[index]
        guard item.primaryBackAt != nil else { return Transition(alert: alert, outcome: .ignored("\(id) is back on cellular")) }
        var next = alert
        next.updatedAt = now
        switch item.status {
        case .executing:
            // The write is still under way: roll back once it is done.
            let debounce = item.approvedOnly?.debounce ?? ApprovedOnlySettings.defaultDebounce
            return Transition(
                alert: alert, outcome: .applied,
                effects: [.scheduleTimer(.primaryRestored(id), at: now.addingTimeInterval(TimeInterval(max(debounce, 5))))])
        case .active, .failed:
            let spell = cellularSpell(item)
            item.status = .releasing
            item.failure = nil
            item.failedPhase = nil
            item.releasedBy = recoveryActor
            // `primaryBackAt` stays for the "on cellular for" line; a failover from now on finds this one releasing,
            // not restricting, and gets rules of its own.
            next.containments[index] = item
            return Transition(
                alert: next, outcome: .applied,
                effects: [
                    .cancelTimer(.containmentExpiry(id)), .updateMessage,
                    .replyInThread(text: ":electric_plug: The primary uplink of `\(item.target)` stayed up; rolling back \(item.label)\(spell)."),
                    .releaseContainment(id: id),
                ],
                audit: AuditRecord(action: "containment.recovered", actor: recoveryActor, detail: "\(id) \(item.target)\(spell)"))
        default:
            return Transition(alert: alert, outcome: .ignored("\(id) is \(item.status.rawValue)"))
        }
    }

    /// `; on cellular for 42m` when both ends are known.
    static func cellularSpell(_ item: Containment) -> String {
        guard let from = item.failoverAt, let to = item.primaryBackAt else { return "" }
        return "; `\(item.target)` was on cellular for \(elapsed(Int(to.timeIntervalSince(from))))"
    }

    /// `1h 3m`, `42m 10s`, `8s`: how long something lasted, to the second below an hour.
    static func elapsed(_ seconds: Int) -> String {
        let s = max(0, seconds)
        if s >= 86_400 { return "\(s / 86_400)d \((s % 86_400) / 3_600)h" }
        if s >= 3_600 { return "\(s / 3_600)h \((s % 3_600) / 60)m" }
        if s >= 60 { return s % 60 == 0 ? "\(s / 60)m" : "\(s / 60)m \(s % 60)s" }
        return "\(s)s"
    }
}
