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
    let maxAttempts: Int
    let pollInterval: Duration
    let containment: (any ContainmentExecutor)?
    let pacer: SlackPacer
    /// Lanes running at once.
    let concurrency = 16
    /// Alerts whose refused blocks were already logged: once each is enough.
    private let refusalsLogged = Locked(Set<String>())
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation

    public init(
        store: any AlertStore, slack: any SlackMessaging, clock: any SentryClock, logger: Logger,
        metrics: ServerMetrics = ServerMetrics(), maxAttempts: Int = 12, pollInterval: Duration = .seconds(1),
        containment: (any ContainmentExecutor)? = nil, pacer: SlackPacer = SlackPacer()
    ) {
        self.containment = containment
        self.pacer = pacer
        self.store = store
        self.slack = slack
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        self.maxAttempts = maxAttempts
        self.pollInterval = pollInterval
        (wakeups, wakeup) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Tells the runner new effects are waiting.
    public func wake() { wakeup.yield() }

    public func run() async throws {
        logger.info("effect runner started")
        let poll = pollInterval
        // A ticker guarantees progress on retries that come due and on anything a wake-up missed.
        let ticker = Task { [wakeup] in
            while !Task.isCancelled {
                try? await Task.sleep(for: poll)
                wakeup.yield()
            }
        }
        defer { ticker.cancel() }
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
        let inFlight = Locked(Set<Int64>())
        let finished = Locked([Int64]())
        await withTaskGroup(of: Void.self) { group in
            for await _ in wakeups {
                if stopping.current { break }
                await flush(finished, inFlight)
                let room = concurrency - inFlight.current.count
                guard room > 0 else { continue }
                let due: [OutboxEntry]
                do {
                    due = try await store.dueEffects(now: clock.now(), limit: concurrency * 2)
                } catch {
                    logger.error("effect runner could not read the outbox", metadata: ["error": "\(error)"])
                    continue
                }
                for entry in due.filter({ !inFlight.current.contains($0.id) }).prefix(room) {
                    inFlight.withLock { _ = $0.insert(entry.id) }
                    group.addTask {
                        let result = await self.execute(entry)
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
            await group.waitForAll()
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
            try await shielded { try await self.engine.completeEffects(ids, now: self.clock.now()) }
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
        let due = try await store.dueEffects(now: clock.now(), limit: limit)
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
        if !done.isEmpty { try await engine.completeEffects(done, now: clock.now()) }
        return results.filter { $0.1 != .pending }.count
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
                    try await self.slack.update(channel: message.channel, ts: message.ts, text: text, blocks: blocks, metadata: Self.metadata(alert.id))
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
            }
            return .done
        } catch {
            return await failed(entry, error: error, logger: logger)
        }
    }

    private func postAlert(_ entry: OutboxEntry, logger: Logger) async throws -> Result {
        guard let alert = try await loadAlert(entry) else { return .recorded }
        if alert.message != nil { return .done }
        let earlierAttempts = try await engine.beginAttempt(entry.id)
        // Look before posting when an earlier attempt may have reached Slack, or when the post is late enough
        // that a lost commit (power loss) could hide such an attempt.
        let late = clock.now().timeIntervalSince(alert.createdAt) > 30
        if earlierAttempts > 0 || late, let found = try await findPosted(alert) {
            // An earlier attempt reached Slack but its answer was lost (crash, timeout): adopt that message.
            logger.notice("alert message found in channel history; not posting again")
            _ = try await shielded { try await self.engine.apply(.messagePosted(found), to: alert.id, now: self.clock.now(), completing: entry.id) }
            metrics.effectFinished("post_alert", ok: true)
            return .recorded
        }
        let ref = try await sendRendered(alert, kind: "post_alert", logger: logger) { text, blocks in
            await self.pacer.beforePost(channel: alert.channel)
            return try await self.slack.postMessage(channel: alert.channel, text: text, blocks: blocks, threadTS: nil, metadata: Self.metadata(alert.id))
        }
        _ = try await shielded {
            try await self.engine.apply(.messagePosted(ref), to: alert.id, now: self.clock.now(), completing: entry.id)
        }
        metrics.effectFinished("post_alert", ok: true)
        logger.info("alert posted", metadata: ["slack.channel": "\(ref.channel)", "slack.ts": "\(ref.ts)"])
        // The message now exists: anything that waited for it can run.
        wake()
        return .recorded
    }

    /// Sends the alert as rendered; when Slack refuses those blocks (a rendering bug, a limit Slack counts
    /// differently), sends the minimal form instead, so the alert and its buttons still reach the channel.
    private func sendRendered<T: Sendable>(
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
    private func postOnce(_ entry: OutboxEntry, channel: String, thread: String?, text: String, alertID: String?) async throws {
        let earlierAttempts = try await engine.beginAttempt(entry.id)
        if earlierAttempts > 0, try await findPosted(key: entry.idempotencyKey, channel: channel, thread: thread) {
            logger.notice(
                "message found in Slack; not posting again",
                metadata: ["outbox.id": "\(entry.id)", "effect": "\(Self.kind(entry.effect))"])
        } else {
            var payload: [String: JSONValue] = ["effect_key": .string(entry.idempotencyKey)]
            if let alertID { payload["alert_id"] = .string(alertID) }
            await pacer.beforePost(channel: channel)
            _ = try await slack.postMessage(
                channel: channel, text: text, blocks: nil, threadTS: thread,
                metadata: SlackMessageMetadata(eventType: Self.replyEventType, payload: payload))
        }
        // A post is not safe to repeat: record it now, not with the batch.
        try await shielded { try await self.engine.completeEffect(entry.id, now: self.clock.now()) }
    }

    /// Whether a message carrying this outbox key is in the thread (or, without one, the channel's last day).
    private func findPosted(key: String, channel: String, thread: String?) async throws -> Bool {
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

    /// Executes or releases a containment and feeds the outcome back in the same transaction that
    /// closes the outbox entry. Executors are idempotent, so a repeat after a crash changes nothing twice.
    private func contain(_ entry: OutboxEntry, id: String, phase: ContainmentPhase, logger: Logger) async throws -> Result {
        guard let alert = try await loadAlert(entry) else { return .recorded }
        guard let item = alert.containments.first(where: { $0.id == id }),
            item.status == (phase == .execute ? .executing : .releasing)
        else {
            return .done  // a stale entry: the containment moved on
        }
        var logger = logger
        logger[metadataKey: "containment.id"] = "\(id)"
        _ = try await engine.beginAttempt(entry.id)
        let report: String
        do {
            if item.dryRun {
                report = Self.dryRunReport(item, phase: phase)
            } else {
                guard let containment else {
                    throw ContainmentError.permanent(
                        item.kind == .blockUser ? "block-user is disabled: SLACK_ADMIN_TOKEN is not set" : "\(item.kind == .blockIP ? "block-IP" : "approved-only") is disabled: MERAKI_API_KEY/MERAKI_ORG_ID are not set")
                }
                report = phase == .execute ? try await containment.execute(item) : try await containment.release(item)
            }
        } catch let error as ContainmentError {
            if case .transient = error, entry.attempts + 1 < maxAttempts { throw error }
            logger.error("containment step failed", metadata: ["phase": "\(phase.rawValue)", "error": "\(error)"])
            metrics.effectFinished(phase == .execute ? "execute_containment" : "release_containment", ok: false)
            _ = try await shielded {
                try await self.engine.apply(.containmentFailed(id: id, phase: phase, reason: error.description), to: alert.id, now: self.clock.now(), completing: entry.id)
            }
            return .recorded
        }
        logger.notice("containment step done", metadata: ["phase": "\(phase.rawValue)"])
        metrics.effectFinished(phase == .execute ? "execute_containment" : "release_containment", ok: true)
        _ = try await shielded {
            try await self.engine.apply(.containmentSucceeded(id: id, phase: phase, report: report), to: alert.id, now: self.clock.now(), completing: entry.id)
        }
        return .recorded
    }

    /// Pages back through the channel from now to just before the alert was created.
    private func findPosted(_ alert: Alert) async throws -> MessageRef? {
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

    private func loadAlert(_ entry: OutboxEntry) async throws -> Alert? {
        guard let alertID = entry.alertID, let alert = try await store.alert(id: alertID) else {
            try await engine.failEffect(entry.id, error: "alert not found", now: clock.now())
            return nil
        }
        return alert
    }

    private func failed(_ entry: OutboxEntry, error: any Error, logger: Logger) async -> Result {
        let now = clock.now()
        let kind = Self.kind(entry.effect)
        let retryable: Bool
        let reason: String
        switch error {
        case let slackError as SlackError:
            retryable = slackError.isRetryable
            reason = slackError.description
        case let containmentError as ContainmentError:
            if case .transient = containmentError { retryable = true } else { retryable = false }
            reason = containmentError.description
        default:
            retryable = true
            reason = "\(error)"
        }
        metrics.effectFinished(kind, ok: false)
        do {
            if case let slackError as SlackError = error, case .rateLimited(let method, let retryAfter) = slackError {
                metrics.rateLimitWait(limiter: "slack_retry_after", duration: retryAfter)
                await pacer.rateLimited(channel: method == "chat.update" ? nil : await channel(of: entry), retryAfter: retryAfter)
                // Slack said when: wait that long, and a rate limit never uses up an attempt.
                let seconds = Double(retryAfter.components.seconds) + 1
                logger.warning("rate limited; waiting as Slack asked", metadata: ["effect": "\(kind)", "retry_in_s": "\(Int(seconds))"])
                // Slack did not act on a rate-limited call: the attempt `beginAttempt` counted is taken back, so a
                // rate limit never uses up an attempt. The "look before posting again" check still holds: a look-up
                // ran only because an earlier attempt was counted (and stays counted) or the post is late.
                let delta = Self.countsOwnAttempts(entry.effect) ? -1 : 0
                try await shielded { try await self.engine.retryEffect(entry.id, error: reason, at: now.addingTimeInterval(seconds), attemptDelta: delta) }
                return .pending
            }
            let attempts = entry.attempts + 1
            if retryable && attempts < maxAttempts {
                let base = min(pow(2.0, Double(attempts)), 300)
                let delay = base * Double.random(in: 0.5...1.0)
                logger.warning("effect failed; will retry", metadata: ["effect": "\(kind)", "error": "\(reason)", "retry_in_s": "\(Int(delay))"])
                try await engine.retryEffect(entry.id, error: reason, at: now.addingTimeInterval(delay), countAttempt: !Self.countsOwnAttempts(entry.effect))
                return .pending
            } else {
                logger.error("effect failed for good", metadata: ["effect": "\(kind)", "error": "\(reason)", "attempts": "\(attempts)"])
                try await engine.failEffect(entry.id, error: reason, now: now)
                if case .postAlert = entry.effect, let alertID = entry.alertID {
                    _ = try await engine.apply(.postFailed(reason: reason), to: alertID, now: now)
                }
                if let alertID = entry.alertID {
                    switch entry.effect {
                    case .executeContainment(let id):
                        _ = try await engine.apply(.containmentFailed(id: id, phase: .execute, reason: reason), to: alertID, now: now)
                    case .releaseContainment(let id):
                        _ = try await engine.apply(.containmentFailed(id: id, phase: .release, reason: reason), to: alertID, now: now)
                    default:
                        break
                    }
                }
                return .recorded
            }
        } catch {
            logger.error("could not record an effect failure", metadata: ["error": "\(error)"])
            return .pending
        }
    }

    /// The channel an entry posts to, for rate-limit bookkeeping.
    private func channel(of entry: OutboxEntry) async -> String? {
        if case .postNotice(let channel, _) = entry.effect { return channel }
        guard let alertID = entry.alertID else { return nil }
        return try? await store.alert(id: alertID)?.channel
    }

    /// Runs a store write in a task of its own, so the runner's cancellation at shutdown cannot abandon a
    /// result that Slack or Meraki already produced.
    func shielded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Task { try await body() }.value
    }

    /// Effects that count their attempt with `beginAttempt` before running.
    static func countsOwnAttempts(_ effect: AlertEffect) -> Bool {
        switch effect {
        case .postAlert, .replyInThread, .postNotice, .executeContainment, .releaseContainment: true
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
        case .tellUser: "tell_user"
        case .scheduleTimer: "schedule_timer"
        case .cancelTimer: "cancel_timer"
        case .executeContainment: "execute_containment"
        case .releaseContainment: "release_containment"
        }
    }
}
