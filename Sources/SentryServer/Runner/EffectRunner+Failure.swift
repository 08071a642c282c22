import Foundation
import Logging
import SentryCore
import SentryEngine
import SentryStore

/// Failed effects: the retry policy decides from the failure's class and the attempt; the runner carries the
/// decision out. The outbox row and the log keep what the service said; the alert gets Sentry's sentence.
extension EffectRunner {
    func failed(_ entry: OutboxEntry, error: any Error, logger: Logger) async -> Result {
        let decision = retry.decide(FailureClass(of: error), attempt: entry.attempts + 1)
        return await carryOut(decision, for: entry, error: error, logger: logger)
    }

    func carryOut(_ decision: RetryDecision, for entry: OutboxEntry, error: any Error, logger: Logger) async -> Result {
        let now = clock.now()
        let kind = Self.kind(entry.effect)
        let reason = "\(error)"
        metrics.effectFinished(kind, ok: false)
        do {
            switch decision {
            case .waitOut(let wait):
                // Other calls of the refused class wait in `SlackClient`, which holds it for every lane.
                if case .rateLimited(let retryAfter) = FailureClass(of: error) {
                    metrics.rateLimitWait(limiter: "slack_retry_after", duration: retryAfter)
                }
                let seconds = wait.inSeconds
                logger.warning("rate limited; waiting as Slack asked", metadata: ["effect": "\(kind)", "retry_in_s": "\(Int(seconds))"])
                // Slack did not act on a rate-limited call: the attempt `beginAttempt` counted is taken back, so a
                // rate limit never uses up an attempt. The "look before posting again" check still holds: a look-up
                // ran only because an earlier attempt was counted (and stays counted) or the post is late.
                let delta = Self.countsOwnAttempts(entry.effect) ? -1 : 0
                try await shielded {
                    try await self.engine.retryEffect(self.claim(entry), error: reason, at: now.addingTimeInterval(seconds), attemptDelta: delta)
                }
                return .pending
            case .retry(let after):
                let delay = after.inSeconds
                logger.warning("effect failed; will retry", metadata: ["effect": "\(kind)", "error": "\(reason)", "retry_in_s": "\(Int(delay))"])
                try await engine.retryEffect(
                    claim(entry), error: reason, at: now.addingTimeInterval(delay), countAttempt: !Self.countsOwnAttempts(entry.effect))
                return .pending
            case .giveUp:
                logger.error("effect failed for good", metadata: ["effect": "\(kind)", "error": "\(reason)", "attempts": "\(entry.attempts + 1)"])
                try await giveUp(entry: entry, error: reason, event: Self.feedback(for: entry.effect, sentence: FailureClass.userFacing(error)))
                return .recorded
            }
        } catch StoreError.leaseLost {
            logger.warning("effect taken over by another runner; leaving its failure to that one", metadata: ["effect": "\(kind)"])
            return .recorded
        } catch {
            logger.error("could not record an effect failure", metadata: ["error": "\(error)"])
            return .pending
        }
    }

    /// The final failure of an effect and the event it feeds back to its alert (nil: none). Two writes today;
    /// one transaction once the store offers it.
    func giveUp(entry: OutboxEntry, error reason: String, event: AlertEvent?) async throws {
        // One transaction: the outbox never says "failed" while the alert still waits for the effect.
        try await engine.giveUp(claim(entry), error: reason, alertID: entry.alertID, events: event.map { [$0] } ?? [], now: clock.now())
    }

    /// What an effect's final failure tells its alert, in Sentry's words: a post that never happened, or a
    /// containment step that failed.
    static func feedback(for effect: AlertEffect, sentence: String) -> AlertEvent? {
        switch effect {
        case .postAlert: .postFailed(reason: sentence)
        case .executeContainment(let id): .containmentFailed(id: id, phase: .execute, reason: sentence)
        case .releaseContainment(let id): .containmentFailed(id: id, phase: .release, reason: sentence)
        case .askSubject: .subjectNotAsked(reason: "the direct message could not be sent (\(sentence))")
        default: nil
        }
    }
}
