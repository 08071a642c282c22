import Foundation
import Logging
import SentryCore
import SentryEngine
import SentryStore
import ServiceLifecycle

/// Fires due timers (acknowledgement timeouts) from the store, so they survive restarts.
public final class TimerScheduler: Service, Sendable {
    let store: any AlertStore
    var engine: AlertEngine { AlertEngine(store: store) }
    let clock: any SentryClock
    let logger: Logger
    let interval: Duration
    let onEffects: @Sendable () -> Void
    /// `SENTRY_RETENTION`: finished alerts closed longer ago than this are removed (`AlertEngine.removeRetired`).
    let retention: TimeInterval

    /// Finished effects are kept a week for inspection.
    static let keepDoneEffects: TimeInterval = 7 * 86_400
    /// Engines may re-send a detection id for a long time; 90 days keeps `duplicate` answers honest.
    static let keepDetectionIDs: TimeInterval = 90 * 86_400

    public init(
        store: any AlertStore, clock: any SentryClock, logger: Logger, interval: Duration = .seconds(1),
        retention: TimeInterval = TimeInterval(Retention.defaultSeconds), onEffects: @escaping @Sendable () -> Void
    ) {
        self.retention = retention
        self.store = store
        self.clock = clock
        self.logger = logger
        self.interval = interval
        self.onEffects = onEffects
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastPurge = Date.distantPast
            while !Task.isCancelled {
                do {
                    try await self.fireDue()
                    let now = self.clock.now()
                    if now.timeIntervalSince(lastPurge) > 3_600 {
                        lastPurge = now
                        let removed = try await self.engine.purge(
                            doneBefore: now.addingTimeInterval(-Self.keepDoneEffects),
                            detectionsBefore: now.addingTimeInterval(-Self.keepDetectionIDs))
                        if removed > 0 { self.logger.info("purged old outbox rows and detection ids", metadata: ["rows": "\(removed)"]) }
                        try await self.removeRetired(now: now)
                    }
                } catch {
                    self.logger.error("timer pass failed", metadata: ["error": "\(error)"])
                }
                try? await self.clock.sleep(for: self.interval)
            }
        }
    }

    /// Removes the finished alerts past `retention`, a batch at a time until none is left; returns how many went.
    @discardableResult
    public func removeRetired(now: Date) async throws -> Int {
        var total = 0
        while true {
            let removed = try await engine.removeRetired(closedBefore: now.addingTimeInterval(-retention), now: now)
            total += removed
            if removed == 0 || Task.isCancelled { break }
        }
        if total > 0 { logger.info("removed alerts past SENTRY_RETENTION", metadata: ["alerts": "\(total)"]) }
        return total
    }

    /// Fires every timer due now; returns how many fired.
    @discardableResult
    public func fireDue() async throws -> Int {
        let now = clock.now()
        let due = try await store.dueTimers(now: now, limit: 100)
        var fired = 0
        for timer in due {
            let transition = try await engine.fire(timer, now: now)
            fired += 1
            logger.info(
                "timer fired", metadata: ["alert.id": "\(timer.alertID)", "timer.kind": "\(timer.kind.rawValue)", "outcome": "\(transition.outcome)"])
            if !transition.effects.isEmpty { onEffects() }
        }
        return fired
    }
}
