import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryEngine
import SentryStore
import ServiceLifecycle

/// Drains the outbox: executes each effect, feeds its result back to the machine, survives restarts.
///
/// Effects of one alert run in order; different alerts run side by side. A post that may have reached
/// Slack before a crash is looked up in the channel's history (by the alert id in its metadata) before
/// it is posted again, so a restart never duplicates an alert message.
public final class EffectRunner: Service, Sendable {
    public static let metadataEventType = "sentry_alert"
    /// Thread replies and notices: their metadata carries the outbox key that makes them happen once.
    public static let replyEventType = "sentry_reply"

    let store: any AlertStore
    /// Every change an effect's result makes goes through the engine.
    var engine: AlertEngine { AlertEngine(store: store) }
    let slack: any SlackMessaging
    let clock: any SentryClock
    let logger: Logger
    let metrics: ServerMetrics
    /// Decides, from a failure's class and the attempt, whether and when a failed effect runs again.
    let retry: RetryPolicy
    let pollInterval: Duration
    let containment: (any ContainmentExecutor)?
    let pacer: SlackPacer
    /// This runner's name on the effects it leases (unique per process: replicas share one outbox).
    public let owner: String
    /// How long a claimed effect stays this runner's without a renewal; renewed every third of it while it runs.
    let lease: Duration
    /// Lanes running at once.
    let concurrency = 16
    /// Called when an effect has run and its result is recorded (what the Home tabs show may have changed).
    let onEffectDone: @Sendable () -> Void
    /// Alerts whose refused blocks were already logged: once each is enough.
    let refusalsLogged = Locked(Set<String>())
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation
    /// Outbox entries being executed, by id.
    private let inFlight = Locked(Set<Int64>())
    /// A wake-up not yet answered by a look at the outbox, and whether the last look started anything.
    private let activity = Locked((woken: true, started: true))

    public init(
        store: any AlertStore, slack: any SlackMessaging, clock: any SentryClock, logger: Logger,
        metrics: ServerMetrics = ServerMetrics(), retry: RetryPolicy = .effects, pollInterval: Duration = .seconds(1),
        containment: (any ContainmentExecutor)? = nil, pacer: SlackPacer = SlackPacer(), owner: String = EffectRunner.uniqueOwner(),
        lease: Duration = .seconds(30), onEffectDone: @escaping @Sendable () -> Void = {}
    ) {
        self.onEffectDone = onEffectDone
        self.owner = owner
        self.lease = lease
        self.containment = containment
        self.pacer = pacer
        self.store = store
        self.slack = slack
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.retry = retry
        self.pollInterval = pollInterval
        (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Tells the runner new effects are waiting.
    public func wake() {
        activity.withLock { $0.woken = true }
        wakeup.yield()
    }

    /// Whether the runner has nothing to do as far as it knows: every wake-up answered, no effect running, and its
    /// last look at the outbox found nothing due. Tests wait for this instead of sleeping.
    public var isIdle: Bool {
        let activity = activity.current
        return !activity.woken && !activity.started && inFlight.current.isEmpty
    }

    public func run() async throws {
        logger.info("effect runner started")
        let poll = pollInterval
        // A ticker guarantees progress on retries that come due and on anything a wake-up missed; what is in the
        // outbox already (after a restart) runs at once.
        let ticker = Task { [clock] in
            self.wake()
            while !Task.isCancelled {
                try? await clock.sleep(for: poll)
                self.wake()
            }
        }
        defer { ticker.cancel() }
        if !store.isShared {
            // Only this process uses the store: leases a crash left behind are its own, so it takes them back now.
            do { try await store.releaseLeases() } catch { logger.error("could not free old effect leases", metadata: ["error": "\(error)"]) }
        }
        // Effects that run long (a containment over many networks) keep their leases, so no other replica takes them.
        let renewals = Task { [clock, lease] in
            while !Task.isCancelled {
                try? await clock.sleep(for: lease / 3)
                await self.renewLeases()
            }
        }
        defer { renewals.cancel() }
        let stopping = Locked(false)
        // On shutdown: stop taking new work, let the effects already running finish and be recorded.
        await withGracefulShutdownHandler {
            await self.feed(until: stopping)
        } onGracefulShutdown: {
            stopping.withLock { $0 = true }
            self.wake()
        }
        logger.info("effect runner stopped; pending effects stay in the outbox")
    }

    /// Keeps up to `concurrency` lanes running; a slow Slack call holds back only its own alert.
    func feed(until stopping: Locked<Bool>) async {
        let inFlight = self.inFlight
        let finished = Locked([Int64]())
        // A discarding group: each lane's task is freed when it ends (a plain group keeps every finished child until
        // its results are read, which here would be never: memory grew with every effect run).
        await withDiscardingTaskGroup { group in
            for await _ in wakeups {
                if stopping.current { break }
                // Looking counts as busy until the look has found nothing: a test waiting for idleness must not see the gap.
                activity.withLock { $0 = (woken: false, started: true) }
                await flush(finished, inFlight)
                let room = concurrency - inFlight.current.count
                guard room > 0 else { continue }
                let due: [OutboxEntry]
                do {
                    // Its own running effects come back renewed (and are skipped below): room for them too.
                    due = try await claim(limit: room + inFlight.current.count)
                } catch {
                    logger.error("effect runner could not read the outbox", metadata: ["error": "\(error)"])
                    activity.withLock { $0.started = true }
                    continue
                }
                let batch = due.filter { !inFlight.current.contains($0.id) }.prefix(room)
                activity.withLock { $0.started = !batch.isEmpty }
                for entry in batch {
                    inFlight.withLock { _ = $0.insert(entry.id) }
                    group.addTask {
                        let result = await self.execute(entry)
                        if result != .pending { self.onEffectDone() }
                        if result == .done {
                            // Stays "in flight" until its completion is written, so it is not fetched again.
                            finished.withLock { $0.append(entry.id) }
                        } else {
                            inFlight.withLock { _ = $0.remove(entry.id) }
                        }
                        self.wake()
                    }
                }
            }
        }
        await flush(finished, inFlight)
    }

    /// Marks a batch of executed, repeat-safe effects done in one transaction.
    private func flush(_ finished: Locked<[Int64]>, _ inFlight: Locked<Set<Int64>>) async {
        let ids = finished.withLock { ids -> [Int64] in
            defer { ids.removeAll() }
            return ids
        }
        guard !ids.isEmpty else { return }
        do {
            let lost = try await shielded { try await self.engine.completeEffects(ids, owner: self.owner, now: self.clock.now()) }
            if !lost.isEmpty {
                logger.warning("effects were taken over by another runner before they were marked done", metadata: ["outbox.ids": "\(lost.sorted())"])
            }
        } catch {
            // They stay pending and run again: only repeat-safe effects are completed in batches.
            logger.error("could not mark effects done", metadata: ["error": "\(error)"])
        }
        inFlight.withLock { $0.subtract(ids) }
    }

    /// Runs every effect at the head of its lane now, once, and waits for them; returns how many finished.
    /// Used by tests and tools; the service uses the continuous feed.
    @discardableResult
    public func drainOnce(limit: Int = 64) async throws -> Int {
        let due = try await claim(limit: limit)
        guard !due.isEmpty else { return 0 }
        let results = await withTaskGroup(of: (Int64, Result).self) { group in
            for entry in due {
                group.addTask { (entry.id, await self.execute(entry)) }
            }
            var results: [(Int64, Result)] = []
            for await result in group { results.append(result) }
            return results
        }
        let done = results.filter { $0.1 == .done }.map(\.0)
        if !done.isEmpty { try await engine.completeEffects(done, owner: owner, now: clock.now()) }
        if results.contains(where: { $0.1 != .pending }) { onEffectDone() }
        return results.filter { $0.1 != .pending }.count
    }

    /// Leases up to `limit` due effects to this runner.
    func claim(limit: Int) async throws -> [OutboxEntry] {
        try await engine.claimEffects(owner: owner, now: clock.now(), lease: lease.inSeconds, limit: limit)
    }

    /// This runner's hold on a claimed entry.
    func claim(_ entry: OutboxEntry) -> EffectClaim { EffectClaim(id: entry.id, owner: owner) }

    /// Extends the leases of everything running; says so when one was lost (renewed too late).
    func renewLeases() async {
        let running = inFlight.current
        guard !running.isEmpty else { return }
        do {
            let held = try await store.renewLeases(Array(running), owner: owner, until: clock.now().addingTimeInterval(lease.inSeconds))
            let lost = running.subtracting(held).filter { inFlight.current.contains($0) }
            if !lost.isEmpty {
                logger.warning("effect leases lost while running; another runner may take them over", metadata: ["outbox.ids": "\(lost.sorted())"])
            }
        } catch {
            logger.error("could not renew effect leases", metadata: ["error": "\(error)"])
        }
    }

    /// A name no other runner has: host, process and a random part (a restarted process gets a new one).
    public static func uniqueOwner() -> String {
        let host = ProcessInfo.processInfo.hostName.prefix(64)
        return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(UInt32.random(in: 0...UInt32.max))"
    }

    enum Result: Equatable {
        /// Executed and safe to repeat (an update, an ephemeral answer): marked done in a batch.
        case done
        /// Executed and already recorded (done or failed) in the store.
        case recorded
        /// Still pending: deferred or to be retried; holds back the alert's later effects.
        case pending
    }

    /// Executes one entry. Pending entries (deferred, or retried later) hold back the alert's later effects so
    /// they keep their order.
    func execute(_ entry: OutboxEntry) async -> Result {
        var logger = self.logger
        logger[metadataKey: "outbox.id"] = "\(entry.id)"
        if let alertID = entry.alertID { logger[metadataKey: "alert.id"] = "\(alertID)" }
        do {
            switch entry.effect {
            case .postAlert:
                return try await postAlert(entry, logger: logger)
            case .updateMessage:
                // From now on a change to the alert queues a new update instead of folding into this one.
                try await engine.releaseCoalesceKey(entry.id)
                guard let alert = try await loadAlert(entry) else { return .recorded }
                // Lanes run in order, so a post still pending would have run first: no message means none will come.
                guard let message = alert.message else { return .done }
                try await sendRendered(alert, kind: "update_message", logger: logger) { text, blocks in
                    await self.pacer.beforeUpdate()
                    try await self.slack.update(
                        channel: message.channel, ts: message.ts, text: text, blocks: blocks, metadata: Self.metadata(alert.id))
                }
                metrics.effectFinished("update_message", ok: true)
            case .replyInThread(let text):
                guard let alert = try await loadAlert(entry) else { return .recorded }
                // The alert message never made it: say it in the channel rather than not at all.
                try await postOnce(entry, channel: alert.message?.channel ?? alert.channel, thread: alert.message?.ts, text: text, alertID: alert.id)
                metrics.effectFinished("reply_in_thread", ok: true)
                return .recorded
            case .postNotice(let channel, let text):
                try await postOnce(entry, channel: channel, thread: nil, text: text, alertID: entry.alertID)
                metrics.effectFinished("post_notice", ok: true)
                return .recorded
            case .postReport(let channel, let text, let blocks):
                try await postOnce(entry, channel: channel, thread: nil, text: text, blocks: blocks, alertID: entry.alertID)
                metrics.effectFinished("post_report", ok: true)
                return .recorded
            case .tellUser(let user, let text, let responseURL):
                if let responseURL {
                    try await slack.respond(to: responseURL, text: text, blocks: nil, responseType: .ephemeral, replaceOriginal: false)
                } else if let alertID = entry.alertID, let alert = try await store.alert(id: alertID) {
                    try await slack.postEphemeral(channel: alert.channel, user: user, text: text, blocks: nil, threadTS: nil)
                } else {
                    logger.warning("no way to reach the user for an ephemeral answer; dropped")
                }
                metrics.effectFinished("tell_user", ok: true)
            case .scheduleTimer, .cancelTimer:
                break  // timers live in the store, never in the outbox
            case .executeContainment(let id):
                return try await contain(entry, id: id, phase: .execute, logger: logger)
            case .releaseContainment(let id):
                return try await contain(entry, id: id, phase: .release, logger: logger)
            case .askSubject(let user):
                return try await askSubject(entry, userID: user, logger: logger)
            case .updateQuestion:
                return try await updateQuestion(entry)
            }
            return .done
        } catch StoreError.leaseLost {
            // Another runner took the effect over (this one could not renew its lease in time): it finishes it.
            logger.warning("effect taken over by another runner; leaving it to that one", metadata: ["effect": "\(Self.kind(entry.effect))"])
            return .recorded
        } catch {
            return await failed(entry, error: error, logger: logger)
        }
    }

    func loadAlert(_ entry: OutboxEntry) async throws -> Alert? {
        guard let alertID = entry.alertID, let alert = try await store.alert(id: alertID) else {
            try await engine.failEffect(claim(entry), error: "alert not found", now: clock.now())
            return nil
        }
        return alert
    }

    /// Runs a store write in a task of its own, so the runner's cancellation at shutdown cannot abandon a
    /// result that Slack or Meraki already produced.
    func shielded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Task { try await body() }.value
    }

    /// Effects that count their attempt with `beginAttempt` before running.
    static func countsOwnAttempts(_ effect: AlertEffect) -> Bool {
        switch effect {
        case .postAlert, .replyInThread, .postNotice, .postReport, .executeContainment, .releaseContainment, .askSubject: true
        default: false
        }
    }

    static func metadata(_ alertID: String) -> SlackMessageMetadata {
        SlackMessageMetadata(eventType: metadataEventType, payload: ["alert_id": .string(alertID)])
    }

    static func kind(_ effect: AlertEffect) -> String {
        switch effect {
        case .postAlert: "post_alert"
        case .updateMessage: "update_message"
        case .replyInThread: "reply_in_thread"
        case .postNotice: "post_notice"
        case .postReport: "post_report"
        case .tellUser: "tell_user"
        case .scheduleTimer: "schedule_timer"
        case .cancelTimer: "cancel_timer"
        case .executeContainment: "execute_containment"
        case .releaseContainment: "release_containment"
        case .askSubject: "ask_subject"
        case .updateQuestion: "update_question"
        }
    }
}
