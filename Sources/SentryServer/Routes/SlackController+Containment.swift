import Foundation
import Hummingbird
import Logging
import SentryCore
import SentryEngine
import SentryStore

/// Block user / block IP: the buttons, the modal, the approval buttons and the slash commands.
extension SlackController {
    func playbookResponders(alertID: String) async throws -> [String] {
        guard let playbookID = try await context.store.playbookID(ofAlert: alertID) else { return [] }
        return context.catalog.playbook(id: playbookID)?.responders ?? []
    }

    /// Block user… / Block IP… on an alert: a responder gets the modal, anyone else a refusal on the record.
    func containmentButton(_ kind: ContainmentAction.Kind, _ actions: InteractionPayload.BlockActions, logger: Logger) async throws -> SlackAnswer {
        let now = context.clock.now()
        guard let alertID = actions.value, let alert = try await context.store.alert(id: String(alertID.prefix(64))) else {
            try await tell(
                actions.userID, "That alert no longer exists or never did; nothing was changed.", responseURL: actions.responseURL, now: now)
            return .ok
        }
        let target: String?
        switch kind {
        case .blockUser: target = alert.subject.slackUserID
        case .blockIP: target = alert.subject.ip
        case .approvedOnly: target = alert.isCellularFailover ? alert.subject.merakiNetworkID : nil
        }
        guard let target, let policy = Self.offered(kind, on: alert) else {
            try await tell(
                actions.userID, "This alert's playbook does not offer `\(kind.rawValue)` for its subject; nothing was changed.",
                responseURL: actions.responseURL, now: now)
            return .ok
        }
        if let missing = Self.notConfigured(kind, context.configuration) {
            try await tell(actions.userID, "\(missing). Nothing was changed.", responseURL: actions.responseURL, now: now)
            return .ok
        }
        let mayContain = await context.responders.mayContain(
            userID: actions.userID, playbookResponders: try await playbookResponders(alertID: alert.id))
        guard mayContain else {
            // Through the machine, so the refusal is on the audit trail.
            let request = ContainmentRequest(
                id: ContainmentID.make(), kind: kind, target: target, ttl: policy.ttl, reason: "(refused before the form)",
                requestedBy: actions.userID,
                mayContain: false, approvalsRequired: policy.approvals, dryRun: context.configuration.dryRun, responseURL: actions.responseURL)
            let transition = try await context.engine.apply(.containmentRequested(request), to: alert.id, now: now)
            if !transition.effects.isEmpty { context.wake() }
            return .ok
        }
        // Checked again by the machine when the form comes back; here so the form never opens for a bad target.
        let note: String
        do { note = try ContainmentTarget.validate(kind: kind, target: target).note } catch {
            try await tell(
                actions.userID,
                "Cannot contain this alert's \(kind == .blockIP ? "IP" : kind == .blockUser ? "user" : "network"): \(error.description).",
                responseURL: actions.responseURL, now: now)
            return .ok
        }
        guard let trigger = actions.triggerID else {
            try await tell(
                actions.userID, "Slack sent no trigger id, so the form cannot open; try the button again.", responseURL: actions.responseURL, now: now
            )
            return .ok
        }
        let configuration = context.configuration
        let ttl = min(max(policy.ttl, configuration.minTTL), configuration.maxTTL)
        let view = ContainmentModal.view(
            ContainmentModal.Metadata(alertID: alert.id, kind: kind, target: target), defaultTTL: ttl, approvals: policy.approvals,
            minTTL: configuration.minTTL, maxTTL: configuration.maxTTL, note: note, dryRun: configuration.dryRun)
        openForm(view, trigger: trigger, user: actions.userID, responseURL: actions.responseURL, now: now, logger: logger)
        return .ok
    }

    /// The modal was submitted: inline errors, or a containment request.
    func containmentSubmitted(userID: String, metadata raw: String, values: JSONValue) async throws -> SlackAnswer {
        guard let metadata = ContainmentModal.Metadata(raw), let alert = try await context.store.alert(id: metadata.alertID) else {
            return .json([
                "response_action": "errors",
                "errors": [ContainmentModal.reasonBlock: "This form no longer matches an alert; close it and start again."],
            ])
        }
        let configuration = context.configuration
        let read = ContainmentModal.read(values: values, minTTL: configuration.minTTL, maxTTL: configuration.maxTTL)
        guard case .success(let input) = read else {
            if case .failure(let errors) = read {
                return .json(["response_action": "errors", "errors": .object(errors.byBlock.mapValues(JSONValue.string))])
            }
            return .ok
        }
        // private_metadata comes back from the client: the kind must be one this alert offers (the machine checks
        // the target).
        guard let policy = Self.offered(metadata.kind, on: alert) else {
            return .json([
                "response_action": "errors", "errors": [ContainmentModal.reasonBlock: "This alert does not offer that containment; close the form."],
            ])
        }
        let approvals = policy.approvals
        let mayContain = await context.responders.mayContain(userID: userID, playbookResponders: try await playbookResponders(alertID: alert.id))
        let request = ContainmentRequest(
            id: ContainmentID.make(), kind: metadata.kind, target: metadata.target, ttl: input.ttl, reason: input.reason, requestedBy: userID,
            mayContain: mayContain, approvalsRequired: approvals, dryRun: configuration.dryRun)
        let transition = try await context.engine.apply(.containmentRequested(request), to: alert.id, now: context.clock.now())
        if !transition.effects.isEmpty { context.wake() }
        if case .applied = transition.outcome { return .ok }
        let why: String
        switch transition.outcome {
        case .ignored(let reason), .rejected(let reason): why = reason
        case .applied: why = ""
        }
        return .json(["response_action": "errors", "errors": [ContainmentModal.reasonBlock: .string(AlertMessage.truncate(why, 150))]])
    }

    /// Approve / Reject / Unblock / Retry on a containment.
    func containmentDecision(_ action: ContainmentDecision.Action, _ actions: InteractionPayload.BlockActions, logger: Logger) async throws
        -> SlackAnswer
    {
        let now = context.clock.now()
        guard let containmentID = actions.value, let alertID = try await context.store.alertID(forContainment: String(containmentID.prefix(64)))
        else {
            try await tell(
                actions.userID, "That containment no longer exists or never did; nothing was changed.", responseURL: actions.responseURL, now: now)
            return .ok
        }
        let mayContain = await context.responders.mayContain(
            userID: actions.userID, playbookResponders: try await playbookResponders(alertID: alertID))
        let decision = ContainmentDecision(
            containmentID: containmentID, action: action, userID: actions.userID, mayContain: mayContain, responseURL: actions.responseURL)
        let transition = try await context.engine.apply(.containmentDecided(decision), to: alertID, now: now)
        logger.info("containment click", metadata: ["containment.id": "\(containmentID)", "outcome": "\(transition.outcome)"])
        if !transition.effects.isEmpty { context.wake() }
        return .ok
    }
}

extension SlackController {
    /// The policy under which an alert offers a kind of containment: its playbook's, or a default for manual alerts.
    static func offered(_ kind: ContainmentAction.Kind, on alert: Alert) -> ContainmentAction? {
        alert.policy.actions.first(where: { $0.kind == kind }) ?? (alert.manual ? ContainmentAction(kind: kind, approvals: 1, ttl: 3_600) : nil)
    }

    /// Why a kind of containment cannot run here (nil: it can; dry runs need nothing).
    static func notConfigured(_ kind: ContainmentAction.Kind, _ configuration: ServerConfiguration) -> String? {
        configuration.dryRun || configuration.canContain(kind) ? nil : kind.notConfigured
    }
}

/// Containment ids (`C-7K3M9Q2X`), in the same alphabet as alert ids.
public enum ContainmentID {
    public static func make() -> String { "C-" + AlertID.make().dropFirst(2) }
}
