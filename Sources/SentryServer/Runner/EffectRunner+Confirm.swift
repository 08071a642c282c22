import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryEngine
import SentryStore

/// Asking the affected user: `users.info` decides whether they may be asked (`ConfirmationRule`), then the
/// question goes to their direct messages at most once, and is re-rendered when it is answered or expires.
extension EffectRunner {
    func askSubject(_ entry: OutboxEntry, userID: String, logger: Logger) async throws -> Result {
        guard let alert = try await loadAlert(entry) else { return .recorded }
        // Sent already (a repeat after the result was recorded), or closed: nothing to send.
        guard alert.confirmation?.state == .asking, alert.confirmation?.message == nil else {
            try await shielded { try await self.engine.completeEffect(self.claim(entry), now: self.clock.now()) }
            return .recorded
        }
        let earlierAttempts = try await engine.beginAttempt(claim(entry))
        let user = try await slack.userInfo(id: userID)
        let account = SubjectAccount(deleted: user.deleted, isBot: user.isBot, isAppUser: user.isAppUser)
        if let reason = ConfirmationRule.whyNotAsk(account) {
            logger.info("subject not asked", metadata: ["reason": "\(reason)"])
            _ = try await shielded {
                try await self.engine.apply(.subjectNotAsked(reason: reason), to: alert.id, now: self.clock.now(), completing: self.claim(entry))
            }
            metrics.effectFinished("ask_subject", ok: true)
            return .recorded
        }
        let channel = try await slack.openDirectMessage(userID: userID)
        let ref: MessageRef
        if earlierAttempts > 0, let found = try await findQuestion(key: entry.idempotencyKey, channel: channel) {
            logger.notice("question found in the direct messages; not sending it again")
            ref = found
        } else {
            let rendered = ConfirmationMessage.render(alert)
            await pacer.beforePost(channel: channel)
            let posted = try await slack.postMessage(
                channel: channel, text: rendered.text, blocks: rendered.blocks, threadTS: nil,
                metadata: SlackMessageMetadata(
                    eventType: Self.replyEventType, payload: ["effect_key": .string(entry.idempotencyKey), "alert_id": .string(alert.id)]))
            ref = MessageRef(channel: posted.channel, ts: posted.ts)
        }
        _ = try await shielded { try await self.engine.apply(.subjectAsked(ref), to: alert.id, now: self.clock.now(), completing: self.claim(entry)) }
        metrics.effectFinished("ask_subject", ok: true)
        wake()
        return .recorded
    }

    /// The question carrying this outbox key among the direct messages of the last day, if an earlier attempt sent it.
    func findQuestion(key: String, channel: String) async throws -> MessageRef? {
        let oldest = String(format: "%.6f", clock.now().timeIntervalSince1970 - 86_400)
        let page = try await slack.history(channel: channel, oldest: oldest, latest: nil, limit: 200)
        let found = page.first {
            $0.metadata?.eventType == Self.replyEventType && $0.metadata?.payload["effect_key"]?.stringValue == key
        }
        return found.map { MessageRef(channel: channel, ts: $0.ts) }
    }

    /// Re-renders the question from the alert's state (answered or expired: its buttons go). Safe to repeat.
    func updateQuestion(_ entry: OutboxEntry) async throws -> Result {
        guard let alert = try await loadAlert(entry) else { return .recorded }
        guard let message = alert.confirmation?.message else { return .done }
        let rendered = ConfirmationMessage.render(alert)
        try await slack.update(channel: message.channel, ts: message.ts, text: rendered.text, blocks: rendered.blocks, metadata: nil)
        metrics.effectFinished("update_question", ok: true)
        return .done
    }
}
