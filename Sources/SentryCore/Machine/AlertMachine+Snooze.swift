import Foundation

/// Snooze: a responder quiets an alert for a while. Detections keep counting on it, nothing is posted or
/// escalated, and when the snooze ends (on time or by hand) the thread says how many arrived in between.
extension AlertMachine {
    /// A snooze asked again by the same person, for the same reason, ending within this of the one in force, is
    /// that one sent twice, not a new one.
    static let repeatedSnoozeTolerance: TimeInterval = 60

    static func snooze(_ alert: Alert, _ request: SnoozeRequest, now: Date) -> Transition {
        guard request.mayAct else {
            let reason = "only responders can snooze alerts"
            return Transition(
                alert: alert, outcome: .rejected(reason),
                effects: [.tellUser(userID: request.userID, text: "Sorry, \(reason). Nothing was changed.", responseURL: request.responseURL)],
                audit: AuditRecord(action: "snooze.refused", actor: request.userID, detail: "not a responder"))
        }
        guard !alert.status.isFinished else {
            let reason = "this alert is \(alert.status.rawValue); there is nothing to snooze"
            return Transition(
                alert: alert, outcome: .ignored(reason),
                effects: [.tellUser(userID: request.userID, text: "Nothing to do: \(reason).", responseURL: request.responseURL)])
        }
        guard request.duration > 0 else {
            return Transition(
                alert: alert, outcome: .rejected("a snooze needs a positive duration"),
                effects: [
                    .tellUser(
                        userID: request.userID, text: "A snooze needs a positive duration; nothing was changed.", responseURL: request.responseURL)
                ])
        }
        let until = now.addingTimeInterval(TimeInterval(request.duration))
        if let current = alert.snoozed(at: now), current.by == request.userID, current.reason == request.reason,
            abs(current.until.timeIntervalSince(until)) <= Self.repeatedSnoozeTolerance
        {
            // The same form sent again (Slack retries a slow answer; people press Submit twice): already done.
            return Transition(alert: alert, outcome: .ignored("already snoozed until \(Timestamp.iso8601(current.until))"))
        }
        var next = alert
        next.updatedAt = now
        // Snoozing again moves the end; what was counted so far stays counted.
        // (Also one whose end is due but not yet fired: its count is not lost.)
        next.snooze = Snooze(
            by: request.userID, reason: request.reason, since: alert.snooze?.since ?? now, until: until, suppressed: alert.snooze?.suppressed ?? 0)
        let reason = request.reason.isEmpty ? "" : ": \(AlertMessage.escape(request.reason))"
        var effects: [AlertEffect] = [
            .updateMessage,
            .replyInThread(text: ":zzz: \(SlackID.mention(request.userID)) snoozed this alert until \(SlackDate.format(until))\(reason)."),
            .scheduleTimer(.snoozeExpiry, at: until),
        ]
        if alert.status == .open { effects.append(.cancelTimer(.ackTimeout)) }
        return Transition(
            alert: next, outcome: .applied, effects: effects,
            audit: AuditRecord(
                action: "alert.snoozed", actor: request.userID,
                detail: "until \(Timestamp.iso8601(until))\(request.reason.isEmpty ? "" : " reason=\(request.reason)")"))
    }

    static func unsnooze(_ alert: Alert, _ request: Unsnooze, now: Date) -> Transition {
        guard request.mayAct else {
            let reason = "only responders can end a snooze"
            return Transition(
                alert: alert, outcome: .rejected(reason),
                effects: [.tellUser(userID: request.userID, text: "Sorry, \(reason). Nothing was changed.", responseURL: request.responseURL)],
                audit: AuditRecord(action: "snooze.refused", actor: request.userID, detail: "unsnooze: not a responder"))
        }
        // A snooze whose end is due but not yet fired still ends here, with its summary.
        guard let snooze = alert.snooze, !alert.status.isFinished else {
            return Transition(
                alert: alert, outcome: .ignored("alert \(alert.id) is not snoozed"),
                effects: [.tellUser(userID: request.userID, text: "Nothing to do: this alert is not snoozed.", responseURL: request.responseURL)])
        }
        return wake(
            alert, snooze, now: now, actor: request.userID, action: "alert.unsnoozed",
            lead: ":alarm_clock: \(SlackID.mention(request.userID)) ended the snooze", cancelTimer: true)
    }

    static func snoozeExpired(_ alert: Alert, now: Date) -> Transition {
        guard let snooze = alert.snooze, !alert.status.isFinished else {
            return Transition(alert: alert, outcome: .ignored("alert \(alert.id) is not snoozed"))
        }
        guard !snooze.inForce(at: now.addingTimeInterval(AlertMachine.timerSlack)) else {
            // A timer from an earlier snooze that was moved later.
            return Transition(alert: alert, outcome: .ignored("snooze runs until \(Timestamp.iso8601(snooze.until))"))
        }
        return wake(
            alert, snooze, now: now, actor: "sentry", action: "alert.snooze_expired", lead: ":alarm_clock: The snooze is over", cancelTimer: false)
    }

    /// The end of a snooze: say what arrived during it, and let escalation start again for an open alert.
    private static func wake(
        _ alert: Alert, _ snooze: Snooze, now: Date, actor: String, action: String, lead: String, cancelTimer: Bool
    ) -> Transition {
        var next = alert
        next.snooze = nil
        next.updatedAt = now
        let count = snooze.suppressed
        let arrived = count == 0 ? "no detection arrived while it was on" : "\(count) detection\(count == 1 ? "" : "s") arrived while it was on"
        var effects: [AlertEffect] = [.updateMessage, .replyInThread(text: "\(lead); \(arrived).")]
        if cancelTimer { effects.append(.cancelTimer(.snoozeExpiry)) }
        if alert.status == .open, let timeout = alert.policy.ackTimeout, alert.escalations < (alert.policy.escalation?.repeatCount ?? 1) {
            effects.append(.scheduleTimer(.ackTimeout, at: now.addingTimeInterval(TimeInterval(timeout))))
        }
        return Transition(
            alert: next, outcome: .applied, effects: effects, audit: AuditRecord(action: action, actor: actor, detail: "suppressed \(count)"))
    }

    /// A detection for a snoozed alert: counted, nothing said.
    static func groupWhileSnoozed(_ alert: Alert, _ snooze: Snooze, _ detection: Detection, now: Date) -> Transition {
        var next = alert
        next.occurrences += 1
        next.lastOccurredAt = max(alert.lastOccurredAt, detection.occurredAt ?? now)
        if let severity = detection.severity, severity > next.severity { next.severity = severity }
        next.noteFiring(detection)
        next.updatedAt = now
        var quiet = snooze
        quiet.suppressed += 1
        next.snooze = quiet
        return Transition(
            alert: next, outcome: .applied,
            audit: AuditRecord(action: "alert.grouped", actor: "detection:\(detection.id)", detail: "occurrence \(next.occurrences) (snoozed)"))
    }
}
