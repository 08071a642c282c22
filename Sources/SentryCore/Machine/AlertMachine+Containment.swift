import Foundation

/// Containment lifecycle: requested → awaiting approval → executing → active (until) → releasing → released;
/// also rejected, and failed (with the phase and the reason, and a retry).
extension AlertMachine {
    static func requested(_ alert: Alert, _ request: ContainmentRequest, now: Date) -> Transition {
        let tell = { (text: String) in AlertEffect.tellUser(userID: request.requestedBy, text: text, responseURL: request.responseURL) }
        guard request.mayContain else {
            let reason = "only responders can request containment"
            return Transition(
                alert: alert, outcome: .rejected(reason), effects: [tell("Sorry, \(reason). Nothing was changed.")],
                audit: AuditRecord(
                    action: "containment.refused", actor: request.requestedBy, detail: "\(request.kind.rawValue) \(request.target): not a responder"))
        }
        if alert.containments.contains(where: { $0.id == request.id }) {
            return Transition(alert: alert, outcome: .ignored("containment \(request.id) already requested"))
        }
        // Whatever the entry path, the target is checked here: a form's private_metadata is input like any other.
        let target: String
        do {
            target = try ContainmentTarget.validate(kind: request.kind, target: request.target).target
        } catch {
            return refused(alert, request, tell, reason: "cannot \(Self.verb(request.kind)) that target: \(error.description)")
        }
        if request.kind == .approvedOnly, !alert.isCellularFailover {
            return refused(alert, request, tell, reason: "approved-only answers a failover to cellular, and alert \(alert.id) is not one")
        }
        guard ContainmentTarget.subjectTarget(of: alert, kind: request.kind) == target else {
            return refused(
                alert, request, tell, reason: "a containment on alert \(alert.id) can only target its own subject, not `\(target.prefix(50))`")
        }
        var settings: ApprovedOnlySettings?
        if request.kind == .approvedOnly {
            guard let offered = alert.policy.actions.first(where: { $0.kind == .approvedOnly })?.approvedOnly else {
                return refused(alert, request, tell, reason: "alert \(alert.id)'s playbook names no approved sources for approved-only")
            }
            settings = offered
        }
        var request = request
        request.target = target
        if let existing = alert.containments.first(where: { $0.kind == request.kind && $0.target == request.target && $0.holdsTarget }) {
            let reason = Containment.alreadyHeld(kind: existing.kind, target: existing.target, by: existing.id, status: existing.status)
            return Transition(alert: alert, outcome: .ignored(reason), effects: [tell("Nothing to do: \(reason).")])
        }
        let immediate = request.approvalsRequired == 0
        var containment = Containment(
            id: request.id, kind: request.kind, target: request.target, reason: request.reason, ttl: request.ttl,
            requestedBy: request.requestedBy, requestedAt: now, approvalsRequired: request.approvalsRequired, approvals: [],
            status: immediate ? .executing : .awaitingApproval, dryRun: request.dryRun)
        var next = alert
        containment.approvedOnly = settings
        if settings != nil { containment.failoverAt = alert.createdAt }
        next.containments.append(containment)
        next.updatedAt = now
        let who = SlackID.mention(request.requestedBy)
        let dry = request.dryRun ? " (dry run: recorded and shown, never executed)" : ""
        let need = request.approvalsRequired == 1 ? "1 approval" : "\(request.approvalsRequired) approvals"
        let reply =
            immediate
            ? ":lock: \(who) requested \(containment.label) for \(DurationText.format(request.ttl)): \(AlertMessage.escape(request.reason)). Running now\(dry)."
            : ":hourglass_flowing_sand: \(who) requested \(containment.label) for \(DurationText.format(request.ttl)): \(AlertMessage.escape(request.reason)). Needs \(need) from another responder\(dry)."
        var effects: [AlertEffect] = [.updateMessage, .replyInThread(text: reply)]
        if immediate { effects.append(.executeContainment(id: request.id)) }
        return Transition(
            alert: next, outcome: .applied, effects: effects,
            audit: AuditRecord(
                action: "containment.requested", actor: request.requestedBy,
                detail:
                    "\(request.id) \(request.kind.rawValue) \(request.target) ttl=\(DurationText.format(request.ttl)) approvals=\(request.approvalsRequired)\(request.dryRun ? " dry_run" : "") reason=\(request.reason)"
            ))
    }

    /// A request refused before anything was recorded on the alert, with the reason on the audit trail.
    private static func refused(_ alert: Alert, _ request: ContainmentRequest, _ tell: (String) -> AlertEffect, reason: String) -> Transition {
        Transition(
            alert: alert, outcome: .rejected(reason), effects: [tell("Sorry, \(reason). Nothing was changed.")],
            audit: AuditRecord(
                action: "containment.refused", actor: request.requestedBy, detail: "\(request.kind.rawValue) \(request.target.prefix(80)): \(reason)")
        )
    }

    static func decided(_ alert: Alert, _ decision: ContainmentDecision, now: Date) -> Transition {
        let tell = { (text: String) in AlertEffect.tellUser(userID: decision.userID, text: text, responseURL: decision.responseURL) }
        guard let index = alert.containments.firstIndex(where: { $0.id == decision.containmentID }) else {
            return Transition(
                alert: alert, outcome: .rejected("unknown containment \(decision.containmentID)"),
                effects: [tell("That containment no longer exists or never did.")])
        }
        let containment = alert.containments[index]
        let who = SlackID.mention(decision.userID)
        guard decision.mayContain else {
            let reason = "only responders can \(decision.action.rawValue) containment"
            return Transition(
                alert: alert, outcome: .rejected(reason), effects: [tell("Sorry, \(reason). Nothing was changed.")],
                audit: AuditRecord(
                    action: "containment.refused", actor: decision.userID, detail: "\(containment.id) \(decision.action.rawValue): not a responder"))
        }
        func notNow() -> Transition {
            let reason = "\(containment.label) is \(containment.status.described)"
            return Transition(alert: alert, outcome: .ignored(reason), effects: [tell("Nothing to do: \(reason).")])
        }
        var next = alert
        next.updatedAt = now
        var item = containment
        var effects: [AlertEffect] = [.updateMessage]
        let action: String
        switch decision.action {
        case .approve:
            guard containment.status == .awaitingApproval else { return notNow() }
            if decision.userID == containment.requestedBy {
                let reason = "you requested this containment; another responder must approve it"
                return Transition(
                    alert: alert, outcome: .rejected(reason), effects: [tell("Sorry, \(reason).")],
                    audit: AuditRecord(action: "containment.refused", actor: decision.userID, detail: "\(containment.id) approve: own request"))
            }
            if containment.approvals.contains(decision.userID) {
                return Transition(
                    alert: alert, outcome: .ignored("already approved by \(decision.userID)"), effects: [tell("You already approved this.")])
            }
            item.approvals.append(decision.userID)
            action = "containment.approved"
            if item.approvals.count >= item.approvalsRequired {
                item.status = .executing
                effects += [.replyInThread(text: ":white_check_mark: \(who) approved \(item.label). Running now."), .executeContainment(id: item.id)]
            } else {
                effects.append(
                    .replyInThread(text: ":white_check_mark: \(who) approved \(item.label) (\(item.approvals.count) of \(item.approvalsRequired))."))
            }
        case .reject:
            guard containment.status == .awaitingApproval else { return notNow() }
            item.status = .rejected
            item.rejectedBy = decision.userID
            action = "containment.rejected"
            effects.append(.replyInThread(text: ":raised_hand: \(who) rejected \(item.label). Nothing was executed."))
        case .unblock:
            // A failed containment may have changed things before failing: lifting it rolls back whatever it did.
            guard containment.status == .active || containment.status == .failed else { return notNow() }
            item.status = .releasing
            item.failure = nil
            item.failedPhase = nil
            item.releasedBy = decision.userID
            action = "containment.unblock_requested"
            effects.append(.cancelTimer(.containmentExpiry(item.id)))
            if item.kind == .approvedOnly { effects.append(.cancelTimer(.primaryRestored(item.id))) }
            effects += [.replyInThread(text: ":unlock: \(who) is lifting \(item.label)."), .releaseContainment(id: item.id)]
        case .retry:
            guard containment.status == .failed, let phase = containment.failedPhase else { return notNow() }
            item.failure = nil
            item.failedPhase = nil
            action = "containment.retried"
            effects.append(.cancelTimer(.containmentExpiry(item.id)))
            switch phase {
            case .execute:
                item.status = .executing
                effects += [.replyInThread(text: ":repeat: \(who) retries \(item.label)."), .executeContainment(id: item.id)]
            case .release:
                item.status = .releasing
                effects += [.replyInThread(text: ":repeat: \(who) retries lifting \(item.label)."), .releaseContainment(id: item.id)]
            }
        }
        next.containments[index] = item
        return Transition(
            alert: next, outcome: .applied, effects: effects,
            audit: AuditRecord(
                action: action, actor: decision.userID, detail: "\(item.id) \(item.kind.rawValue) \(item.target) → \(item.status.rawValue)"))
    }

    static func succeeded(_ alert: Alert, _ id: String, _ phase: ContainmentPhase, report: String, now: Date) -> Transition {
        guard let index = alert.containments.firstIndex(where: { $0.id == id }) else {
            return Transition(alert: alert, outcome: .ignored("unknown containment \(id)"))
        }
        var item = alert.containments[index]
        var effects: [AlertEffect] = [.updateMessage]
        let action: String
        switch phase {
        case .execute:
            guard item.status == .executing else {
                return Transition(alert: alert, outcome: .ignored("\(id) is \(item.status.rawValue), not executing"))
            }
            let until = now.addingTimeInterval(TimeInterval(item.ttl))
            item.status = .active
            item.activeSince = now
            item.activeUntil = until
            item.report = report
            action = "containment.executed"
            effects += [
                .scheduleTimer(.containmentExpiry(id), at: until),
                .replyInThread(
                    text:
                        ":lock: \(item.label) is in place until \(SlackDate.format(until))\(item.dryRun ? " (dry run: nothing was executed)" : ""). \(AlertMessage.escape(report))"
                ),
            ]
        case .release:
            guard item.status == .releasing else {
                return Transition(alert: alert, outcome: .ignored("\(id) is \(item.status.rawValue), not releasing"))
            }
            item.status = .released
            item.releasedAt = now
            item.report = report
            action = "containment.released"
            let by: String
            switch item.releasedBy {
            case nil, "expiry": by = "its time ran out"
            case Self.recoveryActor: by = "the primary uplink is back" + cellularSpell(item)
            case let user?: by = "lifted by \(SlackID.mention(user))"
            }
            effects.append(.replyInThread(text: ":unlock: \(item.label) is rolled back (\(by)). \(AlertMessage.escape(report))"))
        }
        var next = alert
        next.containments[index] = item
        next.updatedAt = now
        return Transition(
            alert: next, outcome: .applied, effects: effects, audit: AuditRecord(action: action, actor: "sentry", detail: "\(id) \(report)"))
    }

    static func failed(_ alert: Alert, _ id: String, _ phase: ContainmentPhase, reason: String, now: Date) -> Transition {
        guard let index = alert.containments.firstIndex(where: { $0.id == id }) else {
            return Transition(alert: alert, outcome: .ignored("unknown containment \(id)"))
        }
        var item = alert.containments[index]
        let expected: Containment.Status = phase == .execute ? .executing : .releasing
        guard item.status == expected else {
            return Transition(alert: alert, outcome: .ignored("\(id) is \(item.status.rawValue), not \(expected.rawValue)"))
        }
        item.status = .failed
        item.failedPhase = phase
        item.failure = reason
        var next = alert
        next.containments[index] = item
        next.updatedAt = now
        let what = phase == .execute ? item.label : "lifting \(item.label)"
        // Nothing may stay blocked for good: a failed rollback is tried again in 10 minutes, and a failed
        // execution (which may have changed some things) is rolled back when its TTL would have ended.
        let retryAt = phase == .release ? now.addingTimeInterval(600) : item.requestedAt.addingTimeInterval(TimeInterval(item.ttl))
        let next2 =
            phase == .release
            ? "It is tried again automatically in 10 minutes; Retry or Unblock act now."
            : "Retry runs it again; Unblock rolls back whatever it did. Otherwise it is rolled back \(SlackDate.format(retryAt))."
        return Transition(
            alert: next, outcome: .applied,
            effects: [
                .updateMessage, .scheduleTimer(.containmentExpiry(id), at: max(retryAt, now)),
                .replyInThread(text: ":warning: \(what) failed: \(AlertMessage.escape(reason)). \(next2)"),
            ],
            audit: AuditRecord(action: "containment.failed", actor: "sentry", detail: "\(id) \(phase.rawValue): \(reason)"))
    }

    static func expired(_ alert: Alert, _ id: String, now: Date) -> Transition {
        guard let index = alert.containments.firstIndex(where: { $0.id == id }) else {
            return Transition(alert: alert, outcome: .ignored("unknown containment \(id)"))
        }
        var item = alert.containments[index]
        guard item.status == .active || item.status == .failed else {
            return Transition(alert: alert, outcome: .ignored("\(id) is \(item.status.rawValue); nothing expires"))
        }
        item.status = .releasing
        item.failure = nil
        item.failedPhase = nil
        if item.releasedBy == nil { item.releasedBy = "expiry" }
        var next = alert
        next.containments[index] = item
        next.updatedAt = now
        return Transition(
            alert: next, outcome: .applied,
            effects: [
                .updateMessage,
                .replyInThread(
                    text: alert.containments[index].status == .failed
                        ? ":repeat: Rolling back \(item.label) again after the earlier failure."
                        : ":alarm_clock: \(item.label) reached its time limit; rolling it back."),
                .releaseContainment(id: id),
            ],
            audit: AuditRecord(action: "containment.expired", actor: "sentry", detail: "\(id) ttl \(DurationText.format(item.ttl))"))
    }

}

extension AlertMachine {
    /// What a kind of containment does, as a verb for refusals.
    static func verb(_ kind: ContainmentAction.Kind) -> String {
        switch kind {
        case .blockIP: "block"
        case .blockUser: "block user"
        case .approvedOnly: "restrict to approved devices"
        }
    }
}
