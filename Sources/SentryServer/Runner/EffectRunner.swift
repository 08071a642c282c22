import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryStore
import ServiceLifecycle

/// Drains the outbox: executes each effect, feeds its result back to the machine, survives restarts.
///
/// Effects of one alert run in order; different alerts run side by side. A post that may have reached
/// Slack before a crash is looked up in the channel's history (by the alert id in its metadata) before
/// it is posted again, so a restart never duplicates an alert message.
public final class EffectRunner: Service, Sendable {
    public static let metadataEventType = "sentry_alert"

    let store: any AlertStore
    let slack: any SlackMessaging
    let clock: any SentryClock
    let logger: Logger
    let metrics: ServerMetrics
    let maxAttempts: Int
    let pollInterval: Duration
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation

    public init(
        store: any AlertStore, slack: any SlackMessaging, clock: any SentryClock, logger: Logger,
        metrics: ServerMetrics = ServerMetrics(), maxAttempts: Int = 12, pollInterval: Duration = .seconds(1)
    ) {
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
        let stream = wakeups
        // A ticker guarantees progress on retries that come due and on anything a wake-up missed.
        let ticker = Task { [wakeup] in
            while !Task.isCancelled {
                try? await Task.sleep(for: poll)
                wakeup.yield()
            }
        }
        defer { ticker.cancel() }
        await cancelWhenGracefulShutdown {
            for await _ in stream {
                if Task.isCancelled { break }
                do {
                    while try await self.drainOnce() > 0 && !Task.isCancelled {}
                } catch {
                    self.logger.error("effect runner pass failed", metadata: ["error": "\(error)"])
                }
            }
        }
        logger.info("effect runner stopped; pending effects stay in the outbox")
    }

    /// Runs every effect due now, once; returns how many were finished (done or failed).
    @discardableResult
    public func drainOnce(limit: Int = 64) async throws -> Int {
        let due = try await store.dueEffects(now: clock.now(), limit: limit)
        guard !due.isEmpty else { return 0 }
        // Ordered lanes: an alert's effects in id order; answers to users are independent of each other.
        var lanes: [[OutboxEntry]] = []
        var laneOfAlert: [String: Int] = [:]
        for entry in due {
            if case .tellUser = entry.effect {
                lanes.append([entry])
            } else if let alertID = entry.alertID {
                if let index = laneOfAlert[alertID] {
                    lanes[index].append(entry)
                } else {
                    laneOfAlert[alertID] = lanes.count
                    lanes.append([entry])
                }
            } else {
                lanes.append([entry])
            }
        }
        let (finished, done) = await withTaskGroup(of: (Int, [Int64]).self) { group in
            for lane in lanes {
                group.addTask {
                    var finished = 0
                    var done: [Int64] = []
                    for entry in lane {
                        let result = await self.execute(entry)
                        if result == .pending { break }
                        if result == .done { done.append(entry.id) }
                        finished += 1
                    }
                    return (finished, done)
                }
            }
            return await group.reduce((0, [Int64]())) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
        // One transaction marks the whole pass done; a crash before it repeats only harmless calls
        // (an update that re-renders, an ephemeral answer), never an alert post.
        if !done.isEmpty { try await store.completeEffects(done, now: clock.now()) }
        return finished
    }

    enum Result: Equatable {
        /// Executed; the runner marks it done with the rest of the pass.
        case done
        /// Executed and already recorded (done or failed) in the store.
        case recorded
        /// Still pending: deferred or to be retried; holds back the alert's later effects.
        case pending
    }

    /// Executes one entry. Pending entries (deferred, or retried later) hold back the alert's later effects so
    /// they keep their order.
    func execute(_ entry: OutboxEntry) async -> Result {
        let now = clock.now()
        var logger = self.logger
        logger[metadataKey: "outbox.id"] = "\(entry.id)"
        if let alertID = entry.alertID { logger[metadataKey: "alert.id"] = "\(alertID)" }
        do {
            switch entry.effect {
            case .postAlert:
                return try await postAlert(entry, logger: logger)
            case .updateMessage:
                guard let alert = try await loadAlert(entry) else { return .recorded }
                guard let message = alert.message else {
                    if try await store.hasPendingPost(alertID: alert.id) { return .pending }
                    // Never posted and no post pending: the update has nothing to change.
                    return .done
                }
                let rendered = AlertMessage.render(alert)
                try await slack.update(channel: message.channel, ts: message.ts, text: rendered.text, blocks: rendered.blocks, metadata: Self.metadata(alert.id))
                metrics.effectFinished("update_message", ok: true)
            case .replyInThread(let text):
                guard let alert = try await loadAlert(entry) else { return .recorded }
                guard let message = alert.message else {
                    if try await store.hasPendingPost(alertID: alert.id) { return .pending }
                    // The alert message never made it: say it in the channel rather than not at all.
                    _ = try await slack.postMessage(channel: alert.channel, text: text, blocks: nil, threadTS: nil, metadata: nil)
                    return .done
                }
                _ = try await slack.postMessage(channel: message.channel, text: text, blocks: nil, threadTS: message.ts, metadata: nil)
                metrics.effectFinished("reply_in_thread", ok: true)
            case .postNotice(let channel, let text):
                _ = try await slack.postMessage(channel: channel, text: text, blocks: nil, threadTS: nil, metadata: nil)
                metrics.effectFinished("post_notice", ok: true)
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
            }
            return .done
        } catch {
            return await failed(entry, error: error, logger: logger)
        }
    }

    private func postAlert(_ entry: OutboxEntry, logger: Logger) async throws -> Result {
        guard let alert = try await loadAlert(entry) else { return .recorded }
        if alert.message != nil { return .done }
        let earlierAttempts = try await store.beginAttempt(entry.id)
        if earlierAttempts > 0, let found = try await findPosted(alert) {
            // An earlier attempt reached Slack but its answer was lost (crash, timeout): adopt that message.
            logger.notice("alert message found in channel history; not posting again")
            _ = try await store.apply(.messagePosted(found), to: alert.id, now: clock.now(), completing: entry.id)
            metrics.effectFinished("post_alert", ok: true)
            return .recorded
        }
        let rendered = AlertMessage.render(alert)
        let ref = try await slack.postMessage(
            channel: alert.channel, text: rendered.text, blocks: rendered.blocks, threadTS: nil, metadata: Self.metadata(alert.id))
        _ = try await store.apply(.messagePosted(MessageRef(channel: ref.channel, ts: ref.ts)), to: alert.id, now: clock.now(), completing: entry.id)
        metrics.effectFinished("post_alert", ok: true)
        logger.info("alert posted", metadata: ["slack.channel": "\(ref.channel)", "slack.ts": "\(ref.ts)"])
        // The message now exists: anything that waited for it can run.
        wake()
        return .recorded
    }

    private func findPosted(_ alert: Alert) async throws -> MessageRef? {
        let oldest = String(format: "%.6f", alert.createdAt.timeIntervalSince1970 - 60)
        let messages = try await slack.history(channel: alert.channel, oldest: oldest, limit: 200)
        for message in messages where message.metadata?.eventType == Self.metadataEventType {
            if message.metadata?.payload["alert_id"]?.stringValue == alert.id {
                return MessageRef(channel: alert.channel, ts: message.ts)
            }
        }
        return nil
    }

    private func loadAlert(_ entry: OutboxEntry) async throws -> Alert? {
        guard let alertID = entry.alertID, let alert = try await store.alert(id: alertID) else {
            try await store.failEffect(entry.id, error: "alert not found", now: clock.now())
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
        default:
            retryable = true
            reason = "\(error)"
        }
        metrics.effectFinished(kind, ok: false)
        do {
            let attempts = entry.attempts + 1
            if retryable && attempts < maxAttempts {
                let base = min(pow(2.0, Double(attempts)), 300)
                let delay = base * Double.random(in: 0.5...1.0)
                logger.warning("effect failed; will retry", metadata: ["effect": "\(kind)", "error": "\(reason)", "retry_in_s": "\(Int(delay))"])
                try await store.retryEffect(entry.id, error: reason, at: now.addingTimeInterval(delay), countAttempt: entry.effect != .postAlert)
                return .pending
            } else {
                logger.error("effect failed for good", metadata: ["effect": "\(kind)", "error": "\(reason)", "attempts": "\(attempts)"])
                try await store.failEffect(entry.id, error: reason, now: now)
                if case .postAlert = entry.effect, let alertID = entry.alertID {
                    _ = try await store.apply(.postFailed(reason: reason), to: alertID, now: now)
                }
                return .recorded
            }
        } catch {
            logger.error("could not record an effect failure", metadata: ["error": "\(error)"])
            return .pending
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
        }
    }
}
