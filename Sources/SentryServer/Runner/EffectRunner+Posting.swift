import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryEngine
import SentryStore

/// Posting: the alert message (rendered, or its minimal form when Slack refuses the blocks), thread replies and
/// notices, each looked for in Slack before an attempt that may repeat one whose answer was lost.
extension EffectRunner {
    func postAlert(_ entry: OutboxEntry, logger: Logger) async throws -> Result {
        guard let alert = try await loadAlert(entry) else { return .recorded }
        if alert.message != nil { return .done }
        let earlierAttempts = try await engine.beginAttempt(claim(entry))
        // Look before posting when an earlier attempt may have reached Slack, or when the post is late enough
        // that a lost commit (power loss) could hide such an attempt.
        let late = clock.now().timeIntervalSince(alert.createdAt) > 30
        if earlierAttempts > 0 || late, let found = try await findPosted(alert) {
            // An earlier attempt reached Slack but its answer was lost (crash, timeout): adopt that message.
            logger.notice("alert message found in channel history; not posting again")
            _ = try await shielded {
                try await self.engine.apply(.messagePosted(found), to: alert.id, now: self.clock.now(), completing: self.claim(entry))
            }
            metrics.effectFinished("post_alert", ok: true)
            return .recorded
        }
        let ref = try await sendRendered(alert, kind: "post_alert", logger: logger) { text, blocks in
            await self.pacer.beforePost(channel: alert.channel)
            return try await self.slack.postMessage(
                channel: alert.channel, text: text, blocks: blocks, threadTS: nil, metadata: Self.metadata(alert.id))
        }
        _ = try await shielded {
            try await self.engine.apply(.messagePosted(ref), to: alert.id, now: self.clock.now(), completing: self.claim(entry))
        }
        metrics.effectFinished("post_alert", ok: true)
        logger.info("alert posted", metadata: ["slack.channel": "\(ref.channel)", "slack.ts": "\(ref.ts)"])
        // The message now exists: anything that waited for it can run.
        wake()
        return .recorded
    }

    /// Sends the alert as rendered; when Slack refuses those blocks (a rendering bug, a limit Slack counts
    /// differently), sends the minimal form instead, so the alert and its buttons still reach the channel.
    func sendRendered<T: Sendable>(
        _ alert: Alert, kind: String, logger: Logger, _ send: (String, JSONValue) async throws -> T
    ) async throws -> T {
        let rendered = AlertMessage.render(alert)
        do {
            return try await send(rendered.text, rendered.blocks)
        } catch let error as SlackError where error.refusedContent {
            if refusalsLogged.withLock({ logged in
                if logged.count >= 10_000 { logged.removeAll() }
                return logged.insert(alert.id).inserted
            }) {
                logger.error(
                    "Slack refused the alert's blocks; sending the minimal form",
                    metadata: ["effect": "\(kind)", "slack.error": "\(error)"])
            }
            metrics.slackFallback(kind)
            let minimal = AlertMessage.renderMinimal(alert)
            return try await send(minimal.text, minimal.blocks)
        }
    }

    /// Posts a thread reply or a notice at most once. Each carries its outbox key in its metadata; an attempt
    /// after one whose answer was lost (a timeout, a crash between Slack's answer and the commit) first looks for
    /// that key in the thread (or the channel), and adopts the message it finds instead of posting again.
    func postOnce(
        _ entry: OutboxEntry, channel: String, thread: String?, text: String, blocks: JSONValue? = nil, alertID: String?
    ) async throws {
        let earlierAttempts = try await engine.beginAttempt(claim(entry))
        if earlierAttempts > 0, try await findPosted(key: entry.idempotencyKey, channel: channel, thread: thread) {
            logger.notice(
                "message found in Slack; not posting again",
                metadata: ["outbox.id": "\(entry.id)", "effect": "\(Self.kind(entry.effect))"])
        } else {
            var payload: [String: JSONValue] = ["effect_key": .string(entry.idempotencyKey)]
            if let alertID { payload["alert_id"] = .string(alertID) }
            await pacer.beforePost(channel: channel)
            _ = try await slack.postMessage(
                channel: channel, text: text, blocks: blocks, threadTS: thread,
                metadata: SlackMessageMetadata(eventType: Self.replyEventType, payload: payload))
        }
        // A post is not safe to repeat: record it now, not with the batch.
        try await shielded { try await self.engine.completeEffect(self.claim(entry), now: self.clock.now()) }
    }

    /// Whether a message carrying this outbox key is in the thread (or, without one, the channel's last day).
    func findPosted(key: String, channel: String, thread: String?) async throws -> Bool {
        func carries(_ message: SlackHistoryMessage) -> Bool {
            message.metadata?.eventType == Self.replyEventType && message.metadata?.payload["effect_key"]?.stringValue == key
        }
        if let thread {
            var cursor: String?
            for _ in 0..<50 {
                let page = try await slack.replies(channel: channel, ts: thread, cursor: cursor, limit: 200)
                if page.messages.contains(where: carries) { return true }
                guard let next = page.nextCursor else { return false }
                cursor = next
            }
            return false
        }
        // A notice retried after a long Slack outage may be a day old: look back that far (at most 5,000 messages).
        let oldest = String(format: "%.6f", clock.now().timeIntervalSince1970 - 86_400)
        var latest: String?
        for _ in 0..<25 {
            let page = try await slack.history(channel: channel, oldest: oldest, latest: latest, limit: 200)
            if page.contains(where: carries) { return true }
            guard page.count == 200, let last = page.last?.ts else { return false }
            latest = last
        }
        return false
    }

    /// Pages back through the channel from now to just before the alert was created.
    func findPosted(_ alert: Alert) async throws -> MessageRef? {
        let oldest = String(format: "%.6f", alert.createdAt.timeIntervalSince1970 - 60)
        var latest: String?
        for _ in 0..<25 {
            let page = try await slack.history(channel: alert.channel, oldest: oldest, latest: latest, limit: 200)
            for message in page where message.metadata?.eventType == Self.metadataEventType {
                if message.metadata?.payload["alert_id"]?.stringValue == alert.id {
                    return MessageRef(channel: alert.channel, ts: message.ts)
                }
            }
            guard page.count == 200, let last = page.last?.ts else { return nil }
            latest = last
        }
        logger.warning("alert message not found in 5,000 messages of history; posting it", metadata: ["alert.id": "\(alert.id)"])
        return nil
    }
}
