import Foundation

/// Ask the affected user (`confirm_with_subject`): a direct message to the alert's Slack user with Yes and No.
/// Only their own press counts, once, before the timeout; "No" raises the severity and calls the responders,
/// "Yes" is shown and closes nothing; no answer in time escalates as the playbook says.
extension AlertMachine {
    /// On a new alert: the question, when the playbook asks and the subject is a Slack user.
    static func ask(_ alert: inout Alert, now: Date) -> [AlertEffect] {
        guard let settings = alert.policy.confirm, settings.timeout > 0, let user = ConfirmationRule.userToAsk(alert.subject) else { return [] }
        let due = now.addingTimeInterval(TimeInterval(settings.timeout))
        alert.confirmation = Confirmation(userID: user, state: .asking, requestedAt: now, dueAt: due)
        return [.askSubject(userID: user), .scheduleTimer(.confirmTimeout, at: due)]
    }

    static func subjectAsked(_ alert: Alert, _ ref: MessageRef, now: Date) -> Transition {
        guard var confirmation = alert.confirmation else {
            return Transition(alert: alert, outcome: .ignored("alert \(alert.id) asks its subject nothing"))
        }
        if let existing = confirmation.message {
            return Transition(
                alert: alert, outcome: .ignored(existing == ref ? "question already recorded" : "question already sent as \(existing.ts)"))
        }
        var next = alert
        next.updatedAt = now
        confirmation.message = ref
        let who = SlackID.mention(confirmation.userID)
        guard confirmation.state == .asking else {
            // The question went out after it closed (the timeout passed while Slack was away): take its buttons away.
            next.confirmation = confirmation
            return Transition(
                alert: next, outcome: .applied, effects: [.updateQuestion],
                audit: AuditRecord(
                    action: "confirm.asked", actor: "sentry", detail: "\(confirmation.userID) after it was \(confirmation.state.rawValue)"))
        }
        confirmation.state = .asked
        next.confirmation = confirmation
        return Transition(
            alert: next, outcome: .applied,
            effects: [
                .updateMessage,
                .replyInThread(
                    text:
                        ":speech_balloon: Sentry asked \(who) in a direct message whether this was them; an answer counts until \(SlackDate.format(confirmation.dueAt))."
                ),
            ],
            audit: AuditRecord(
                action: "confirm.asked", actor: "sentry", detail: "\(confirmation.userID) until \(Timestamp.iso8601(confirmation.dueAt))"))
    }

    static func subjectNotAsked(_ alert: Alert, reason: String, now: Date) -> Transition {
        guard var confirmation = alert.confirmation, confirmation.state == .asking else {
            return Transition(alert: alert, outcome: .ignored("no question of alert \(alert.id) is waiting to be sent"))
        }
        var next = alert
        next.updatedAt = now
        confirmation.state = .notAsked
        confirmation.note = reason
        next.confirmation = confirmation
        return Transition(
            alert: next, outcome: .applied,
            effects: [
                .updateMessage,
                .replyInThread(
                    text: ":no_bell: \(SlackID.mention(confirmation.userID)) was not asked whether this was them: \(AlertMessage.escape(reason))."),
                .cancelTimer(.confirmTimeout),
            ],
            audit: AuditRecord(action: "confirm.not_asked", actor: "sentry", detail: "\(confirmation.userID): \(reason)"))
    }

    static func subjectAnswered(_ alert: Alert, _ click: ConfirmClick, now: Date) -> Transition {
        func tell(_ text: String) -> [AlertEffect] { [.tellUser(userID: click.userID, text: text, responseURL: click.responseURL)] }
        guard var confirmation = alert.confirmation else {
            return Transition(
                alert: alert, outcome: .ignored("alert \(alert.id) asked nobody"), effects: tell("This alert asked you nothing; nothing was changed.")
            )
        }
        let who = SlackID.mention(confirmation.userID)
        guard click.userID == confirmation.userID else {
            let reason = "only \(who) can answer this question"
            return Transition(
                alert: alert, outcome: .rejected(reason), effects: tell("Sorry, \(reason). Nothing was changed."),
                audit: AuditRecord(
                    action: "confirm.refused", actor: click.userID, detail: "\(click.answer.rawValue) on the question to \(confirmation.userID)"))
        }
        switch confirmation.state {
        case .confirmed, .denied:
            let answer = confirmation.state == .confirmed ? ConfirmAnswer.yes : .no
            return Transition(
                alert: alert, outcome: .ignored("already answered"),
                effects: tell("You already answered “\(answer.label)”; nothing was changed."))
        case .expired:
            return expiredAnswer(alert, confirmation, tell)
        case .notAsked:
            return Transition(
                alert: alert, outcome: .ignored("the subject was not asked"), effects: tell("This question is closed; nothing was changed."))
        case .asking, .asked:
            break
        }
        // Past its time the answer no longer counts, even before the timer's turn comes.
        guard now < confirmation.dueAt else { return expiredAnswer(alert, confirmation, tell) }
        var next = alert
        next.updatedAt = now
        confirmation.answeredAt = now
        let reply: String
        let audit: AuditRecord
        switch click.answer {
        case .yes:
            confirmation.state = .confirmed
            reply = ":raising_hand: \(who) answered *\(ConfirmAnswer.yes.label)*. The alert stays open: a compromised account can say yes too."
            audit = AuditRecord(action: "confirm.yes", actor: click.userID, detail: "it was me")
        case .no:
            confirmation.state = .denied
            let raised = alert.severity.raised
            next.severity = raised
            let mentions = (click.responders.isEmpty ? alert.policy.escalation?.mention ?? [] : click.responders).map(SlackID.mention)
            // The responders first, then a colon: the answering user is not one of those called.
            let lead = mentions.isEmpty ? "" : mentions.joined(separator: " ") + ": "
            let severity =
                raised == alert.severity
                ? "Severity stays \(raised.rawValue)." : "Severity raised from \(alert.severity.rawValue) to \(raised.rawValue)."
            reply = ":rotating_light: \(lead)\(who) answered *\(ConfirmAnswer.no.label)*: confirmed malicious by the user. \(severity)"
            audit = AuditRecord(
                action: "confirm.no", actor: click.userID, detail: "it was not me; severity \(alert.severity.rawValue) -> \(raised.rawValue)")
        }
        next.confirmation = confirmation
        return Transition(
            alert: next, outcome: .applied,
            effects: [.updateMessage, .updateQuestion, .replyInThread(text: reply), .cancelTimer(.confirmTimeout)], audit: audit)
    }

    private static func expiredAnswer(_ alert: Alert, _ confirmation: Confirmation, _ tell: (String) -> [AlertEffect]) -> Transition {
        Transition(
            alert: alert, outcome: .ignored("the question expired"),
            effects: tell(
                "This question expired \(SlackDate.format(confirmation.dueAt)); the security team will follow up. Nothing was changed."))
    }

    static func confirmTimedOut(_ alert: Alert, now: Date) -> Transition {
        guard var confirmation = alert.confirmation, confirmation.isWaiting else {
            return Transition(alert: alert, outcome: .ignored("no question of alert \(alert.id) is waiting for an answer"))
        }
        guard now.addingTimeInterval(AlertMachine.timerSlack) >= confirmation.dueAt else {
            return Transition(alert: alert, outcome: .ignored("the question is open until \(Timestamp.iso8601(confirmation.dueAt))"))
        }
        var next = alert
        next.updatedAt = now
        confirmation.state = .expired
        next.confirmation = confirmation
        let who = SlackID.mention(confirmation.userID)
        let waited = DurationText.format(Int(confirmation.dueAt.timeIntervalSince(confirmation.requestedAt)))
        var effects: [AlertEffect] = [.updateMessage]
        if confirmation.message != nil { effects.append(.updateQuestion) }
        // Nobody is called for a finished or snoozed alert; the thread still says it.
        let escalation = alert.status.isFinished || alert.snoozed(at: now) != nil ? nil : alert.policy.escalation
        let mentions = (escalation?.mention ?? []).map(SlackID.mention).joined(separator: " ")
        let lead = mentions.isEmpty ? "" : mentions + ": "
        if let channel = escalation?.channel {
            effects.append(
                .postNotice(
                    channel: channel,
                    text:
                        ":hourglass: \(lead)alert `\(alert.id)` (\(alert.severity.rawValue)) “\(AlertMessage.escape(alert.title))” in <#\(alert.channel)>: \(who) did not answer whether it was them within \(waited)."
                ))
            effects.append(.replyInThread(text: ":hourglass: \(who) did not answer whether this was them within \(waited)."))
        } else {
            effects.append(.replyInThread(text: ":hourglass: \(lead)\(who) did not answer whether this was them within \(waited)."))
        }
        return Transition(
            alert: next, outcome: .applied, effects: effects,
            audit: AuditRecord(
                action: "confirm.expired", actor: "sentry", detail: "\(confirmation.userID) after \(waited)\(escalation == nil ? "" : ", escalated")")
        )
    }
}
