import Foundation
import SentryCore
import SentryEngine
import SentryStore

/// `/sentry snooze list` and `/sentry unsnooze ID`.
extension CommandResponder {
    static let snoozeUsage = "Usage: `/sentry snooze list` (snoozes in force) or `/sentry unsnooze ID`, for example `/sentry unsnooze A-7K3M9Q2X`."

    func snoozeList(command: SlashCommand) async throws -> String {
        let everyResponder = context.catalog.playbooks.flatMap(\.responders)
        guard await context.responders.mayActOnAlerts(userID: command.userID, playbookResponders: everyResponder) else {
            try await context.engine.recordAudit(
                AuditRecord(action: "snooze.refused", actor: command.userID, detail: "snooze list via /sentry: not a responder"),
                now: context.clock.now())
            return "Sorry, only responders can see snoozes."
        }
        let now = context.clock.now()
        let snoozed = try await context.store.alerts(withTimer: .snoozeExpiry, limit: 1_000).compactMap { alert in
            alert.snoozed(at: now).map { (alert, $0) }
        }
        guard !snoozed.isEmpty else { return ":bell: No alert is snoozed." }
        var lines = snoozed.prefix(20).map { alert, snooze in
            let since = snooze.suppressed == 0 ? "" : " — \(snooze.suppressed) detection\(snooze.suppressed == 1 ? "" : "s") since"
            return
                "\(alert.severity.emoji) `\(alert.id)` *\(AlertMessage.escape(alert.title))* until \(SlackDate.format(snooze.until)) by \(SlackID.mention(snooze.by))\(since)"
        }
        if snoozed.count > 20 { lines.append("…and \(snoozed.count - 20) more.") }
        return "*Snoozed alerts*\n" + lines.joined(separator: "\n")
    }

    func unsnooze(_ id: String, command: SlashCommand) async throws -> String {
        guard AlertID.isWellFormed(id), let alert = try await context.store.alert(id: id) else {
            return "No alert `\(AlertMessage.escape(String(id.prefix(20))))`. `/sentry snooze list` lists the snoozed ones."
        }
        let now = context.clock.now()
        let playbookResponders = context.catalog.playbook(id: alert.playbookID)?.responders ?? []
        guard await context.responders.mayActOnAlerts(userID: command.userID, playbookResponders: playbookResponders) else {
            try await context.engine.recordAudit(
                AuditRecord(action: "snooze.refused", actor: command.userID, detail: "unsnooze \(alert.id) via /sentry: not a responder"), now: now)
            return "Sorry, only responders can end a snooze. Nothing was changed."
        }
        guard alert.snooze != nil, !alert.status.isFinished else { return "Nothing to do: `\(alert.id)` is not snoozed." }
        let request = Unsnooze(userID: command.userID, mayAct: true, responseURL: command.responseURL)
        let transition = try await context.engine.apply(.unsnoozeRequested(request), to: alert.id, now: now)
        if !transition.effects.isEmpty { context.wake() }
        guard case .applied = transition.outcome else { return "Nothing to do: `\(alert.id)` is not snoozed any more." }
        return ":alarm_clock: Snooze of `\(alert.id)` ended; the thread says what arrived during it."
    }
}
