import Foundation
import Hummingbird
import Logging
import SentryCore
import SentryEngine
import SentryStore

/// Yes / No on the question in an alert subject's direct messages. The button's value names the alert and
/// nothing else; the machine accepts only the subject's own press, once, before the timeout.
extension SlackController {
    func confirmButton(_ answer: ConfirmAnswer, _ actions: InteractionPayload.BlockActions, logger: Logger) async throws -> SlackAnswer {
        let now = context.clock.now()
        guard let value = actions.value, !value.isEmpty, let alert = try await context.store.alert(id: String(value.prefix(64))) else {
            try await tell(
                actions.userID, "That question no longer matches an alert; nothing was changed.", responseURL: actions.responseURL, now: now)
            return .ok
        }
        let playbook = context.catalog.playbook(id: alert.playbookID)?.responders ?? []
        let click = ConfirmClick(
            answer: answer, userID: actions.userID, responseURL: actions.responseURL,
            responders: playbook.isEmpty ? context.configuration.responders : playbook)
        let transition = try await context.engine.apply(.subjectAnswered(click), to: alert.id, now: now)
        logger.info("question answered", metadata: ["alert.id": "\(alert.id)", "outcome": "\(transition.outcome)"])
        if !transition.effects.isEmpty || transition.audit != nil { context.wake() }
        return .ok
    }
}
