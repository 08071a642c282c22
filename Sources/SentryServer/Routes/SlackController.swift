import Foundation
import Hummingbird
import Logging
import SentryCore
import SentryEngine
import SentryStore

/// `/slack/commands`, `/slack/interactivity` and `/slack/events` (DESIGN.md §4.3): each counted, then verified
/// by `SlackSignatureMiddleware`; the handlers see only the verified body, on their `SlackRequestContext`.
/// `answer(_:)` is the one handler of every callback: the HTTP routes and the Socket Mode client both call it.
public struct SlackController: SlackCallbackAnswering {
    let context: SentryContext

    public init(context: SentryContext) {
        self.context = context
    }

    var endpoints: RouteCollection<SentryRequestContext> {
        let routes = RouteCollection(context: SentryRequestContext.self)
        routes.counted("commands", as: "slack_commands", context)
            .add(middleware: signature(answersSSLChecks: true))
            .group(context: SlackRequestContext.self)
            .post { try await self.http(.command, $0, $1) }
        routes.counted("interactivity", as: "slack_interactivity", context)
            .add(middleware: signature())
            .group(context: SlackRequestContext.self)
            .post { try await self.http(.interaction, $0, $1) }
        routes.counted("events", as: "slack_events", context)
            .add(middleware: signature())
            .group(context: SlackRequestContext.self)
            .post { try await self.http(.event, $0, $1) }
        return routes
    }

    func signature(answersSSLChecks: Bool = false) -> SlackSignatureMiddleware {
        SlackSignatureMiddleware(
            secret: context.configuration.slackSigningSecret, clock: context.clock, metrics: context.metrics, logger: context.logger,
            answersSSLChecks: answersSSLChecks)
    }

    /// The HTTP side: the media type, then the body decoded into a callback and answered.
    func http(_ kind: SlackCallback.Kind, _ request: Request, _ verified: SlackRequestContext) async throws -> Response {
        switch kind {
        case .command, .interaction:
            guard request.isForm else { return .text(.unsupportedMediaType, "expected application/x-www-form-urlencoded\n") }
        case .event:
            guard request.isJSON else { return .text(.unsupportedMediaType, "expected application/json\n") }
        }
        switch SlackCallback.decode(kind, body: verified.verifiedSlackBody.bytes) {
        case .success(let callback): return try await answer(callback).response
        case .failure(let refusal): return refusal.answer.response
        }
    }

    public func answer(_ callback: SlackCallback) async throws -> SlackAnswer {
        switch callback {
        case .command(let fields): try await slashCommand(fields)
        case .interaction(let payload): try await interactivity(payload)
        case .event(let body): try await events(body)
        }
    }

    // MARK: /slack/commands

    func slashCommand(_ form: [String: String]) async throws -> SlackAnswer {
        let command: SlashCommand
        do { command = try SlashCommand(form: form) } catch { return .text(.badRequest, "\(error)\n") }
        let answer = try await CommandResponder(context: context).answer(command)
        return .json(answer)
    }

    // MARK: /slack/interactivity

    func interactivity(_ json: JSONValue) async throws -> SlackAnswer {
        let payload: InteractionPayload
        do { payload = try InteractionPayload.decode(json: json) } catch { return .text(.badRequest, "\(error)\n") }
        switch payload {
        case .blockActions(let actions):
            return try await blockAction(actions)
        case .viewSubmission(let callbackID, let userID, let metadata, let values):
            if callbackID == SnoozeModal.callbackID { return try await snoozeSubmitted(userID: userID, metadata: metadata, values: values) }
            guard callbackID == ContainmentModal.callbackID else { return .ok }
            return try await containmentSubmitted(userID: userID, metadata: metadata, values: values)
        case .viewClosed, .other:
            return .ok
        }
    }

    func blockAction(_ actions: InteractionPayload.BlockActions) async throws -> SlackAnswer {
        let now = context.clock.now()
        var logger = context.logger
        logger[metadataKey: "slack.action_id"] = "\(actions.actionID)"
        logger[metadataKey: "slack.user"] = "\(actions.userID)"
        if let kind = ContainmentAction.Kind(rawValue: actions.actionID) {
            return try await containmentButton(kind, actions, logger: logger)
        }
        if let decision = ContainmentDecision.Action(rawValue: actions.actionID) {
            return try await containmentDecision(decision, actions, logger: logger)
        }
        // The link back to the detection engine is a URL button: Slack opens it and tells us; nothing to do.
        if actions.actionID == AlertMessage.linkActionID { return .ok }
        if actions.actionID == "snooze" { return try await snoozeButton(actions, logger: logger) }
        if actions.actionID == "unsnooze" { return try await unsnoozeButton(actions, logger: logger) }
        if let answer = ConfirmAnswer(rawValue: actions.actionID) { return try await confirmButton(answer, actions, logger: logger) }
        guard let action = AlertAction(rawValue: actions.actionID) else {
            let text = "Sentry does not know the button `\(actions.actionID.prefix(60))`; nothing was changed."
            logger.notice("button not handled")
            try await tell(actions.userID, text, responseURL: actions.responseURL, now: now)
            return .ok
        }
        guard let alertID = actions.value, !alertID.isEmpty else {
            try await tell(actions.userID, "That button carries no alert id; nothing was changed.", responseURL: actions.responseURL, now: now)
            return .ok
        }
        logger[metadataKey: "alert.id"] = "\(alertID.prefix(40))"
        var playbookResponders: [String] = []
        if context.catalog.playbooks.contains(where: { !$0.responders.isEmpty }),
            let playbookID = try await context.store.playbookID(ofAlert: alertID)
        {
            playbookResponders = context.catalog.playbook(id: playbookID)?.responders ?? []
        }
        let mayAct = await context.responders.mayActOnAlerts(userID: actions.userID, playbookResponders: playbookResponders)
        let click = Click(action: action, userID: actions.userID, mayAct: mayAct, responseURL: actions.responseURL)
        let transition = try await context.engine.apply(.clicked(click), to: String(alertID.prefix(64)), now: now)
        logger.info("click", metadata: ["outcome": "\(transition.outcome)"])
        if !transition.effects.isEmpty { context.wake() }
        return .ok
    }

    func tell(_ user: String, _ text: String, responseURL: String?, now: Date) async throws {
        guard responseURL != nil else { return }
        _ = try await context.engine.enqueue(
            .tellUser(userID: user, text: text, responseURL: responseURL), idempotencyKey: "tell:\(UUID().uuidString)", now: now)
        context.wake()
    }

    // MARK: /slack/events

    func events(_ json: JSONValue) async throws -> SlackAnswer {
        switch json["type"]?.stringValue {
        case "url_verification":
            guard let challenge = json["challenge"]?.stringValue else { return .text(.badRequest, "challenge is missing\n") }
            return .json(["challenge": .string(challenge)])
        case "event_callback":
            guard let event = json["event"], let eventID = json["event_id"]?.stringValue else {
                return .text(.badRequest, "event or event_id is missing\n")
            }
            if event["type"]?.stringValue == "app_mention", let channel = event["channel"]?.stringValue {
                let text = try await CommandResponder(context: context).statusLine()
                // Slack retries events it thinks we missed: the event id makes the answer happen once.
                let fresh = try await context.engine.enqueue(
                    .postNotice(channel: channel, text: text), idempotencyKey: "event:\(eventID)", now: context.clock.now())
                if fresh { context.wake() }
            }
            if event["type"]?.stringValue == "app_home_opened", event["tab"]?.stringValue == "home", let user = event["user"]?.stringValue {
                publishHome(userID: user)
            }
            return .ok
        default:
            return .ok
        }
    }
}
