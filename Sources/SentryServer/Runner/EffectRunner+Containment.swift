import Foundation
import Logging
import SentryCore
import SentryEngine
import SentryStore

/// Containment steps: executed or rolled back through the executor (or only described, in a dry run), the
/// outcome fed back to the alert in the transaction that closes the outbox entry.
extension EffectRunner {
    /// Executes or releases a containment and feeds the outcome back in the same transaction that
    /// closes the outbox entry. Executors are idempotent, so a repeat after a crash changes nothing twice.
    func contain(_ entry: OutboxEntry, id: String, phase: ContainmentPhase, logger: Logger) async throws -> Result {
        guard let alert = try await loadAlert(entry) else { return .recorded }
        guard let item = alert.containments.first(where: { $0.id == id }),
            item.status == (phase == .execute ? .executing : .releasing)
        else {
            return .done  // a stale entry: the containment moved on
        }
        var logger = logger
        logger[metadataKey: "containment.id"] = "\(id)"
        _ = try await engine.beginAttempt(claim(entry))
        let report: String
        do {
            if item.dryRun {
                report = Self.dryRunReport(item, phase: phase)
            } else {
                guard let containment else { throw ContainmentError.notConfigured(item.kind) }
                report = phase == .execute ? try await containment.execute(item) : try await containment.release(item)
            }
        } catch let error as ContainmentError {
            let decision = retry.decide(error.failureClass, attempt: entry.attempts + 1)
            guard decision == .giveUp else { return await carryOut(decision, for: entry, error: error, logger: logger) }
            logger.error("containment step failed", metadata: ["phase": "\(phase.rawValue)", "error": "\(error)"])
            metrics.effectFinished(phase == .execute ? "execute_containment" : "release_containment", ok: false)
            // The outcome and the closing of the entry in one transaction.
            _ = try await shielded {
                try await self.engine.apply(
                    .containmentFailed(id: id, phase: phase, reason: error.userFacing), to: alert.id, now: self.clock.now(),
                    completing: self.claim(entry))
            }
            return .recorded
        }
        logger.notice("containment step done", metadata: ["phase": "\(phase.rawValue)"])
        metrics.effectFinished(phase == .execute ? "execute_containment" : "release_containment", ok: true)
        _ = try await shielded {
            try await self.engine.apply(
                .containmentSucceeded(id: id, phase: phase, report: report), to: alert.id, now: self.clock.now(), completing: self.claim(entry))
        }
        return .recorded
    }
}
