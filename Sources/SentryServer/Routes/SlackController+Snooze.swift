import Foundation
import Hummingbird
import Logging
import SentryCore
import SentryEngine
import SentryStore

/// Snooze… and Unsnooze on an alert, and the snooze form.
extension SlackController {
    func mayActOnAlert(_ userID: String, alertID: String) async throws -> Bool {
        await context.responders.mayActOnAlerts(userID: userID, playbookResponders: try await playbookResponders(alertID: alertID))
    }

    /// Snooze…: a responder gets the form; anyone else a refusal on the record.
    func snoozeButton(_ actions: InteractionPayload.BlockActions, logger: Logger) async throws -> SlackAnswer {
        let now = context.clock.now()
        guard let alertID = actions.value, let alert = try await context.store.alert(id: String(alertID.prefix(64))) else {
            try await tell(
                actions.userID, "That alert no longer exists or never did; nothing was changed.", responseURL: actions.responseURL, now: now)
            return .ok
        }
        let mayAct = try await mayActOnAlert(actions.userID, alertID: alert.id)
        guard mayAct, !alert.status.isFinished else {
            // Through the machine, so a refusal is on the audit trail and a finished alert answers why.
            let request = SnoozeRequest(
                userID: actions.userID, mayAct: mayAct, duration: SnoozeModal.defaultDuration,
                reason: "(refused before the form)", responseURL: actions.responseURL)
            let transition = try await context.engine.apply(.snoozeRequested(request), to: alert.id, now: now)
            if !transition.effects.isEmpty { context.wake() }
            return .ok
        }
        guard let trigger = actions.triggerID else {
            try await tell(
                actions.userID, "Slack sent no trigger id, so the form cannot open; try the button again.", responseURL: actions.responseURL, now: now
            )
            return .ok
        }
        let view = SnoozeModal.view(alert: alert, minDuration: context.configuration.minTTL, maxDuration: context.configuration.maxTTL)
        openForm(view, trigger: trigger, user: actions.userID, responseURL: actions.responseURL, now: now, logger: logger)
        return .ok
    }

    /// Unsnooze: ends the snooze now.
    func unsnoozeButton(_ actions: InteractionPayload.BlockActions, logger: Logger) async throws -> SlackAnswer {
        let now = context.clock.now()
        guard let alertID = actions.value, !alertID.isEmpty else {
            try await tell(actions.userID, "That button carries no alert id; nothing was changed.", responseURL: actions.responseURL, now: now)
            return .ok
        }
        let id = String(alertID.prefix(64))
        guard try await context.store.alert(id: id) != nil else {
            try await tell(
                actions.userID, "That alert no longer exists or never did; nothing was changed.", responseURL: actions.responseURL, now: now)
            return .ok
        }
        let request = Unsnooze(userID: actions.userID, mayAct: try await mayActOnAlert(actions.userID, alertID: id), responseURL: actions.responseURL)
        let transition = try await context.engine.apply(.unsnoozeRequested(request), to: id, now: now)
        logger.info("unsnooze", metadata: ["outcome": "\(transition.outcome)"])
        if !transition.effects.isEmpty { context.wake() }
        return .ok
    }

    /// The snooze form was submitted: inline errors, or the snooze.
    func snoozeSubmitted(userID: String, metadata: String, values: JSONValue) async throws -> SlackAnswer {
        guard let alertID = SnoozeModal.alertID(metadata: metadata), let alert = try await context.store.alert(id: String(alertID.prefix(64))) else {
            return .json([
                "response_action": "errors", "errors": [SnoozeModal.reasonBlock: "This form no longer matches an alert; close it and start again."],
            ])
        }
        let read = SnoozeModal.read(values: values, minDuration: context.configuration.minTTL, maxDuration: context.configuration.maxTTL)
        let input: (duration: Int, reason: String)
        switch read {
        case .success(let value): input = value
        case .failure(let errors): return .json(["response_action": "errors", "errors": .object(errors.byBlock.mapValues(JSONValue.string))])
        }
        let request = SnoozeRequest(
            userID: userID, mayAct: try await mayActOnAlert(userID, alertID: alert.id), duration: input.duration, reason: input.reason)
        let transition = try await context.engine.apply(.snoozeRequested(request), to: alert.id, now: context.clock.now())
        if !transition.effects.isEmpty { context.wake() }
        switch transition.outcome {
        case .applied:
            return .ok
        case .ignored(let why), .rejected(let why):
            return .json(["response_action": "errors", "errors": [SnoozeModal.reasonBlock: .string(AlertMessage.truncate(why, 150))]])
        }
    }

    /// Opens a form now, beside the answer (a trigger id lives 3 seconds, too short for the outbox); if Slack
    /// refuses, the clicker is told.
    func openForm(_ view: JSONValue, trigger: String, user: String, responseURL: String?, now: Date, logger: Logger) {
        let slack = context.slack
        let engine = context.engine
        let wake = context.wake
        Task {
            do {
                try await slack.openView(triggerID: trigger, view: view)
            } catch {
                logger.warning("could not open a form", metadata: ["error": "\(error)"])
                guard responseURL != nil else { return }
                _ = try? await engine.enqueue(
                    .tellUser(
                        userID: user, text: "The form could not open (\(FailureClass.userFacing(error))); press the button again.",
                        responseURL: responseURL),
                    idempotencyKey: "tell:\(UUID().uuidString)", now: now)
                wake()
            }
        }
    }
}
