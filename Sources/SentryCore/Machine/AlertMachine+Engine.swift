import Foundation

/// An engine's resolve (issue 16 point 4): the alert is resolved "by Alertmanager" once every engine alert grouped
/// on it is over — unless a responder is still working on it (acknowledged, or a containment not yet rolled
/// back) or its playbook said `auto_resolve: false`; then the engine's word is noted in the thread and the
/// responder decides.
extension AlertMachine {
    /// The actor of audit entries an engine caused: `engine:Alertmanager`.
    public static func engineActor(_ name: String) -> String { "engine:\(name)" }

    static func engineResolved(_ alert: Alert, _ resolution: EngineResolution, engineAlert: String, now: Date) -> Transition {
        let engine = resolution.by
        guard !alert.status.isFinished else {
            return Transition(
                alert: alert, outcome: .ignored("alert \(alert.id) is \(alert.status.rawValue) already; \(engine)'s resolve changes nothing"))
        }
        var next = alert
        next.updatedAt = now
        let firing = alert.engineFiring ?? []
        let still = firing.filter { $0 != engineAlert }
        next.engineFiring = still
        let actor = engineActor(engine)
        if !still.isEmpty {
            // Only one of several engine alerts grouped here is over: the alert stays as it is.
            let reply = ":information_source: \(engine) says one of the alerts grouped here is over; \(still.count) still firing."
            return Transition(
                alert: next, outcome: .applied, effects: [.replyInThread(text: reply)],
                audit: AuditRecord(action: "alert.engine_resolved_part", actor: actor, detail: "\(engineAlert); \(still.count) still firing"))
        }
        next.engineResolution = resolution
        let said = ":information_source: \(engine) says this is over\(when(resolution))\(classification(resolution))"
        if let reason = keepsOpen(alert) {
            return Transition(
                alert: next, outcome: .applied, effects: [.updateMessage, .replyInThread(text: "\(said). It stays open: \(reason).")],
                audit: AuditRecord(action: "alert.engine_resolved_noted", actor: actor, detail: reason))
        }
        next.status = .resolved
        next.closedBy = nil
        next.closedAt = now
        next.resolvedByEngine = engine
        var effects: [AlertEffect] = [
            .updateMessage, .replyInThread(text: ":white_check_mark: Resolved by \(engine)\(when(resolution))\(classification(resolution))."),
        ]
        if alert.status == .open { effects.append(.cancelTimer(.ackTimeout)) }
        if alert.snooze != nil {
            next.snooze = nil
            effects.append(.cancelTimer(.snoozeExpiry))
        }
        return Transition(
            alert: next, outcome: .applied, effects: effects,
            audit: AuditRecord(action: "alert.resolved", actor: actor, detail: "from \(alert.status.rawValue) by \(engine)"))
    }

    /// Why an engine's resolve does not close the alert, in words for the thread; nil when it may.
    static func keepsOpen(_ alert: Alert) -> String? {
        if !alert.policy.engineMayResolve {
            return "auto-resolve is off for playbook `\(alert.playbookID)`; resolve it here when you are done"
        }
        if alert.status == .acknowledged {
            return "\(alert.acknowledgedBy.map(SlackID.mention) ?? "a responder") acknowledged it and decides when it is resolved"
        }
        if let live = alert.containments.last(where: { !$0.status.isFinal }) {
            return "\(live.label) is \(live.status.rawValue.replacingOccurrences(of: "_", with: " ")); resolve it once you are done with it"
        }
        return nil
    }

    private static func when(_ resolution: EngineResolution) -> String {
        resolution.at.map { " (at \(SlackDate.format($0)))" } ?? ""
    }

    private static func classification(_ resolution: EngineResolution) -> String {
        var text = ""
        if let classification = resolution.classification { text += " — \(AlertMessage.escape(classification))" }
        if let comment = resolution.comment { text += ": “\(AlertMessage.escape(BlockKitText.truncate(comment, 300)))”" }
        return text
    }
}

extension Alert {
    /// Counts an engine detection's alert among those still firing here.
    mutating func noteFiring(_ detection: Detection) {
        guard let engineAlert = detection.engineAlert else { return }
        var firing = engineFiring ?? []
        if !firing.contains(engineAlert) { firing.append(engineAlert) }
        engineFiring = firing
        // Firing again: whatever the engine said before about it being over no longer holds.
        engineResolution = nil
    }
}
