import Foundation
import Logging
import SentryCore
import SentryStore
import ServiceLifecycle

/// Runs the pollers (the Slack audit and Meraki uplink collectors) on one replica at a time: the one holding
/// the `pollers` row of the leadership table. It tries to hold the row every `interval` (renewing it while it
/// leads), starts the pollers when it wins, and stops them when it loses the row or cannot renew before its
/// trusted term ends (`LeaderTerm`). At shutdown it gives the row up, so another replica takes over at its
/// next attempt rather than after the term runs out. Checkpoints and rule windows live in the store, so a new
/// leader carries on where the last one stopped.
public final class LeaderElector: Service, Sendable {
    public static let role = "pollers"

    let store: any LeadershipStore
    /// Take the row whoever holds it: for a store only this process uses, whose last holder was this process
    /// before a restart.
    let takeOver: Bool
    /// This replica's name in the leadership row.
    public let holder: String
    let interval: Duration
    let clock: any SentryClock
    let logger: Logger
    /// Runs the pollers until cancelled (called each time this replica becomes the leader).
    let lead: @Sendable () async -> Void
    private let term: Locked<LeaderTerm>
    private let pollers = Locked<Task<Void, Never>?>(nil)
    private let changes: @Sendable (Bool) -> Void

    /// `ttl` 15 s and `interval` 5 s by default: a dead leader's pollers resume elsewhere within TTL + one interval.
    public init(
        store: any LeadershipStore, takeOver: Bool, holder: String, ttl: Duration = .seconds(15), interval: Duration = .seconds(5),
        clock: any SentryClock, logger: Logger, onChange: @escaping @Sendable (Bool) -> Void = { _ in },
        lead: @escaping @Sendable () async -> Void
    ) {
        self.store = store
        self.takeOver = takeOver
        self.holder = holder
        self.interval = interval
        self.clock = clock
        self.logger = logger
        self.lead = lead
        self.changes = onChange
        self.term = Locked(LeaderTerm(ttl: ttl, margin: min(.seconds(1), ttl / 3)))
    }

    /// Whether this replica leads the pollers now.
    public var isLeading: Bool { term.current.isLeading }

    public func run() async throws {
        // At shutdown the loop is cancelled, the pollers stopped, and the row given up.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.attempt()
                // Wake for the next attempt, or earlier when the trusted term ends first.
                var wake = self.clock.instant() + self.interval
                if let until = self.term.current.trustedUntil, until < wake { wake = until }
                do { try await self.clock.sleep(until: wake) } catch { break }
                self.carryOut(self.term.withLock { $0.checked(now: self.clock.instant()) })
            }
        }
        let running = pollers.current
        carryOut(term.withLock { $0.resigned() })
        await running?.value
        do {
            // In a task of its own: a cancelled caller must still give the row up.
            try await Task { [store, holder] in try await store.resignLeadership(Self.role, holder: holder) }.value
        } catch {
            logger.warning(
                "could not give up the pollers' leadership; another replica takes it when the term runs out", metadata: ["error": "\(error)"])
        }
    }

    /// One try to hold the row, bounded by the interval: a database that does not answer is a failed attempt.
    func attempt() async {
        let start = clock.instant()
        let takeOver = self.takeOver
        let held: Bool? = await withTaskGroup(of: Bool?.self) { group in
            group.addTask {
                do {
                    return try await self.store.holdLeadership(
                        Self.role, holder: self.holder, ttl: self.term.current.ttl.inSeconds, now: self.clock.now(), takeOver: takeOver)
                } catch {
                    if !Task.isCancelled { self.logger.warning("could not renew the pollers' leadership", metadata: ["error": "\(error)"]) }
                    return nil
                }
            }
            group.addTask {
                try? await self.clock.sleep(for: self.interval)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        carryOut(term.withLock { $0.attempted(startedAt: start, held: held, now: self.clock.instant()) })
    }

    private func carryOut(_ action: LeaderTerm.Action) {
        switch action {
        case .none:
            return
        case .lead:
            logger.notice("this replica now leads the pollers", metadata: ["leader": "\(holder)"])
            let task = Task { await self.lead() }
            pollers.withLock { $0 = task }
            changes(true)
        case .stepDown:
            logger.notice("this replica no longer leads the pollers; stopping them", metadata: ["leader": "\(holder)"])
            pollers.withLock { task in
                task?.cancel()
                task = nil
            }
            changes(false)
        }
    }

    /// Runs services side by side until the task is cancelled (the pollers of one term).
    public static func runAll(_ services: [any Service], logger: Logger) async {
        await withTaskGroup(of: Void.self) { group in
            for service in services {
                group.addTask {
                    do { try await service.run() } catch { logger.error("poller stopped", metadata: ["error": "\(error)"]) }
                }
            }
        }
    }
}
