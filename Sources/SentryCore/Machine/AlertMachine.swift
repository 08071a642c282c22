import Foundation

/// The alert lifecycle as a pure function: (alert, event, now) → transition. No I/O, no clock, no randomness.
///
/// Anything that arrives from outside (a Slack retry, a double click, a click on a finished alert,
/// a late timer) gets an explicit `.ignored` or `.rejected` outcome, never a crash.
public enum AlertMachine {
    /// How early a timer may be read as due and still count: stores keep times to the millisecond and the
    /// scheduler polls every second, so a timer fired at its due time can read back a hair before it. Without
    /// this slack the row would be gone and the timeout or snooze end never happen.
    static let timerSlack: TimeInterval = 1

    public static func handle(_ alert: Alert?, _ event: AlertEvent, alertID: String, now: Date) -> Transition {
        guard let alert else {
            if case .detectionReceived(let detection, let playbook, let channel) = event {
                return create(id: alertID, detection: detection, playbook: playbook, channel: channel, now: now)
            }
            return Transition(
                alert: nil, outcome: .rejected("unknown alert \(alertID)"),
                effects: rejectionEffects(event, "That alert no longer exists or never did (\(alertID))."))
        }
        switch event {
        case .detectionReceived:
            return Transition(alert: alert, outcome: .ignored("alert \(alert.id) already exists"))
        case .detectionGrouped(let detection):
            return group(alert, detection, now: now)
        case .clicked(let click):
            return clicked(alert, click, now: now)
        case .messagePosted(let ref):
            return posted(alert, ref, now: now)
        case .postFailed(let reason):
            var next = alert
            next.postFailure = reason
            next.updatedAt = now
            return Transition(
                alert: next, outcome: .applied,
                audit: AuditRecord(action: "message.failed", actor: "sentry", detail: reason))
        case .timerFired(.containmentExpiry(let id)):
            return expired(alert, id, now: now)
        case .timerFired(.primaryRestored(let id)):
            return primaryRestored(alert, id, now: now)
        case .timerFired(.snoozeExpiry):
            return snoozeExpired(alert, now: now)
        case .snoozeRequested(let request):
            return snooze(alert, request, now: now)
        case .unsnoozeRequested(let request):
            return unsnooze(alert, request, now: now)
        case .engineResolved(let resolution, let engineAlert):
            return engineResolved(alert, resolution, engineAlert: engineAlert, now: now)
        case .subjectAsked(let ref):
            return subjectAsked(alert, ref, now: now)
        case .subjectNotAsked(let reason):
            return subjectNotAsked(alert, reason: reason, now: now)
        case .subjectAnswered(let click):
            return subjectAnswered(alert, click, now: now)
        case .uplinkChanged(let change):
            return uplinkChanged(alert, change, now: now)
        case .timerFired(let kind):
            return timerFired(alert, kind, now: now)
        case .containmentRequested(let request):
            return requested(alert, request, now: now)
        case .containmentDecided(let decision):
            return decided(alert, decision, now: now)
        case .containmentSucceeded(let id, let phase, let report):
            return succeeded(alert, id, phase, report: report, now: now)
        case .containmentFailed(let id, let phase, let reason):
            return failed(alert, id, phase, reason: reason, now: now)
        }
    }

    static func create(id: String, detection: Detection, playbook: Playbook, channel: String, now: Date) -> Transition {
        let occurred = detection.occurredAt ?? now
        var alert = Alert(
            id: id, playbookID: playbook.id, detection: detection.detection,
            severity: detection.severity ?? playbook.severity,
            title: detection.title ?? playbook.title, summary: detection.summary, subject: detection.subject,
            evidence: detection.evidence, channel: channel, status: .open, createdAt: now, updatedAt: now,
            lastOccurredAt: occurred, occurrences: 1,
            groupKey: Alert.groupKey(detection: detection.detection, subject: detection.subject),
            groupUntil: now.addingTimeInterval(TimeInterval(playbook.groupingWindow)),
            escalations: 0, policy: AlertPolicy(playbook), link: detection.link, engineFiring: detection.engineAlert.map { [$0] })
        var effects: [AlertEffect] = [.postAlert]
        if let timeout = playbook.ackTimeout {
            effects.append(.scheduleTimer(.ackTimeout, at: now.addingTimeInterval(TimeInterval(timeout))))
        }
        effects += ask(&alert, now: now)
        return Transition(
            alert: alert, outcome: .applied, effects: effects,
            audit: AuditRecord(
                action: "alert.created", actor: "detection:\(detection.id)",
                detail: "\(detection.detection) \(alert.severity.rawValue) \(detection.subject.key) playbook=\(playbook.id)"))
    }

    static func group(_ alert: Alert, _ detection: Detection, now: Date) -> Transition {
        guard !alert.status.isFinished else {
            return Transition(alert: alert, outcome: .ignored("alert \(alert.id) is \(alert.status.rawValue); it groups nothing more"))
        }
        if let snooze = alert.snoozed(at: now) { return groupWhileSnoozed(alert, snooze, detection, now: now) }
        var next = alert
        next.occurrences += 1
        next.lastOccurredAt = max(alert.lastOccurredAt, detection.occurredAt ?? now)
        if let severity = detection.severity, severity > next.severity { next.severity = severity }
        next.noteFiring(detection)
        next.updatedAt = now
        return Transition(
            alert: next, outcome: .applied, effects: [.updateMessage],
            audit: AuditRecord(action: "alert.grouped", actor: "detection:\(detection.id)", detail: "occurrence \(next.occurrences)"))
    }

    static func clicked(_ alert: Alert, _ click: Click, now: Date) -> Transition {
        let who = SlackID.mention(click.userID)
        guard click.mayAct else {
            let reason = "only responders can \(verb(click.action)) alerts"
            return Transition(
                alert: alert, outcome: .rejected(reason),
                effects: [.tellUser(userID: click.userID, text: "Sorry, \(reason). Nothing was changed.", responseURL: click.responseURL)],
                audit: AuditRecord(action: "click.refused", actor: click.userID, detail: "\(click.action.rawValue): not a responder"))
        }
        if let reason = whyNot(alert, click.action) {
            return Transition(
                alert: alert, outcome: .ignored(reason),
                effects: [.tellUser(userID: click.userID, text: "Nothing to do: \(reason).", responseURL: click.responseURL)])
        }
        var next = alert
        next.updatedAt = now
        let reply: String
        switch click.action {
        case .ack:
            next.status = .acknowledged
            next.acknowledgedBy = click.userID
            next.acknowledgedAt = now
            reply = ":eyes: \(who) acknowledged this alert."
        case .resolve:
            next.status = .resolved
            next.closedBy = click.userID
            next.closedAt = now
            reply = ":white_check_mark: \(who) resolved this alert."
        case .dismiss:
            next.status = .dismissed
            next.closedBy = click.userID
            next.closedAt = now
            reply = ":no_entry_sign: \(who) dismissed this alert."
        }
        var effects: [AlertEffect] = [.updateMessage, .replyInThread(text: reply)]
        if alert.status == .open { effects.append(.cancelTimer(.ackTimeout)) }
        if next.status.isFinished, alert.snooze != nil {
            next.snooze = nil
            effects.append(.cancelTimer(.snoozeExpiry))
        }
        return Transition(
            alert: next, outcome: .applied, effects: effects,
            audit: AuditRecord(action: "alert.\(next.status.rawValue)", actor: click.userID, detail: "from \(alert.status.rawValue)"))
    }

    /// Why an action cannot apply to the alert as it stands, in words for the clicker; nil when it can.
    static func whyNot(_ alert: Alert, _ action: AlertAction) -> String? {
        switch alert.status {
        case .open:
            return nil
        case .acknowledged:
            if action == .ack {
                let by = alert.acknowledgedBy.map(SlackID.mention) ?? "someone"
                return "this alert was already acknowledged by \(by)\(alert.acknowledgedAt.map { " " + SlackDate.format($0) } ?? "")"
            }
            return nil
        case .resolved, .dismissed:
            let by = alert.closer ?? "someone"
            return "this alert was already \(alert.status.rawValue) by \(by)\(alert.closedAt.map { " " + SlackDate.format($0) } ?? "")"
        }
    }

    static func posted(_ alert: Alert, _ ref: MessageRef, now: Date) -> Transition {
        if let existing = alert.message {
            return Transition(
                alert: alert,
                outcome: .ignored(existing == ref ? "message already recorded" : "alert already posted as \(existing.ts)"))
        }
        var next = alert
        next.message = ref
        next.postFailure = nil
        next.updatedAt = now
        return Transition(
            alert: next, outcome: .applied,
            audit: AuditRecord(action: "message.posted", actor: "sentry", detail: "\(ref.channel) \(ref.ts)"))
    }

    static func timerFired(_ alert: Alert, _ kind: TimerKind, now: Date) -> Transition {
        switch kind {
        case .containmentExpiry(let id):
            return expired(alert, id, now: now)
        case .primaryRestored(let id):
            return primaryRestored(alert, id, now: now)
        case .snoozeExpiry:
            return snoozeExpired(alert, now: now)
        case .confirmTimeout:
            return confirmTimedOut(alert, now: now)
        case .weeklyDigest:
            return Transition(alert: alert, outcome: .ignored("the weekly digest belongs to no alert"))
        case .ackTimeout:
            guard alert.status == .open else {
                return Transition(alert: alert, outcome: .ignored("alert is \(alert.status.rawValue); no escalation"))
            }
            if let snooze = alert.snoozed(at: now) {
                return Transition(alert: alert, outcome: .ignored("alert is snoozed until \(Timestamp.iso8601(snooze.until)); no escalation"))
            }
            guard let timeout = alert.policy.ackTimeout else {
                return Transition(alert: alert, outcome: .ignored("playbook sets no acknowledgement timeout"))
            }
            let limit = alert.policy.escalation?.repeatCount ?? 1
            guard alert.escalations < limit else {
                return Transition(alert: alert, outcome: .ignored("escalated \(alert.escalations) times already"))
            }
            var next = alert
            next.escalations += 1
            next.updatedAt = now
            let mentions = (alert.policy.escalation?.mention ?? []).map(SlackID.mention).joined(separator: " ")
            let lead = mentions.isEmpty ? "" : mentions + " "
            let count = limit > 1 ? " (escalation \(next.escalations) of \(limit))" : ""
            let waited = DurationText.format(Int(now.timeIntervalSince(alert.createdAt)))
            var effects: [AlertEffect] = []
            if let channel = alert.policy.escalation?.channel {
                effects.append(
                    .postNotice(
                        channel: channel,
                        text:
                            ":rotating_light: \(lead)alert `\(alert.id)` (\(alert.severity.rawValue)) “\(AlertMessage.escape(alert.title))” in <#\(alert.channel)> is not acknowledged after \(waited)\(count)."
                    ))
            } else {
                effects.append(.replyInThread(text: ":rotating_light: \(lead)not acknowledged after \(waited)\(count)."))
            }
            effects.append(.updateMessage)
            if next.escalations < limit {
                effects.append(.scheduleTimer(.ackTimeout, at: now.addingTimeInterval(TimeInterval(timeout))))
            }
            return Transition(
                alert: next, outcome: .applied, effects: effects,
                audit: AuditRecord(action: "alert.escalated", actor: "sentry", detail: "escalation \(next.escalations) of \(limit)"))
        }
    }

    private static func rejectionEffects(_ event: AlertEvent, _ text: String) -> [AlertEffect] {
        if case .clicked(let click) = event {
            return [.tellUser(userID: click.userID, text: text, responseURL: click.responseURL)]
        }
        return []
    }

    private static func verb(_ action: AlertAction) -> String {
        switch action {
        case .ack: "acknowledge"
        case .resolve: "resolve"
        case .dismiss: "dismiss"
        }
    }
}
