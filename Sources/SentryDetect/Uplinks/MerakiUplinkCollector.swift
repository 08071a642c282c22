import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryStore
import ServiceLifecycle

/// Polls appliance uplink statuses every interval and delivers uplink changes (public IP, failover to cellular,
/// recovery) to the event sink, each once, across restarts.
///
/// One poll: read statuses, load snapshots, run `UplinkTracker`, keep only event ids the seen-ids table has not
/// had, deliver those, then save snapshots. A crash after delivery and before the save re-derives the same ids
/// next time, which the table holds back. Ids are recorded before delivery, so events the sink refuses are kept
/// in memory and offered again first on the next poll; a crash in the short span between recording and delivery
/// loses that poll's events.
public final class MerakiUplinkCollector: Service, Sendable {
    /// Namespace of the ids in the seen-ids table: the events' source.
    public static let seenSource = SecurityEvent.Source.merakiUplinks.rawValue
    /// Refused events kept for the next poll, at most (the newest).
    public static let maxPending = 1_000

    /// Counters since start-up, for `/metrics` and readiness.
    public struct Statistics: Sendable, Equatable {
        /// Polls started; `succeededPolls` and `failedPolls` count the finished ones.
        public var polls = 0
        public var succeededPolls = 0
        public var failedPolls = 0
        public var eventsDelivered = 0
        /// Events derived again (after a crash or a failed save) that the seen-ids table held back.
        public var duplicatesSuppressed = 0
        /// Device reports that were stale, had no report time, or went back in time.
        public var reportsIgnored = 0
        public var lastSuccessAt: Date?
        public var lastFailureAt: Date?
        public var lastError: String?

        public init() {}
    }

    /// Which step of a poll failed.
    public enum Stage: String, Sendable, Equatable {
        case source, store, sink
    }

    public enum PollResult: Sendable, Equatable {
        case succeeded(delivered: Int, suppressed: Int)
        /// Nothing was saved; `message` is the error's description.
        case failed(Stage, message: String)
    }

    private struct State {
        var statistics = Statistics()
        var pending: [SecurityEvent] = []
        /// A wait Meraki asked for (429 Retry-After) that is longer than the interval.
        var retryAfter: Duration?
    }

    let source: any UplinkStatusSource
    let store: any DetectorStore
    let sink: any EventSink
    public let interval: Duration
    public let tracker: UplinkTracker
    let clock: any SentryClock
    let logger: Logger
    private let state = Locked(State())

    /// - Parameter tracker: nil derives it from `interval` (`UplinkTracker(pollInterval:)`).
    public init(
        source: any UplinkStatusSource,
        store: any DetectorStore,
        sink: any EventSink,
        interval: Duration,
        tracker: UplinkTracker? = nil,
        clock: any SentryClock = SystemClock(),
        logger: Logger
    ) {
        self.source = source
        self.store = store
        self.sink = sink
        self.interval = interval
        self.tracker = tracker ?? UplinkTracker(pollInterval: interval)
        self.clock = clock
        self.logger = logger
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Events recorded as seen whose delivery failed, waiting for the next poll.
    public var pendingEvents: [SecurityEvent] { state.withLock { $0.pending } }

    public func run() async throws {
        logger.info("meraki uplink collector started", metadata: ["collector.interval": "\(interval)"])
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.pollOnce(now: self.clock.now())
                let wait = self.state.withLock { state -> Duration in
                    defer { state.retryAfter = nil }
                    return max(self.interval, state.retryAfter ?? .zero)
                }
                do { try await self.clock.sleep(for: wait) } catch { return }
            }
        }
    }

    /// One poll at `now`. Never throws: a failure ends this poll only, is logged and counted, and leaves the
    /// snapshots as they were.
    @discardableResult
    public func pollOnce(now: Date) async -> PollResult {
        state.withLock { $0.statistics.polls += 1 }
        let reports: [UplinkReport]
        do {
            reports = try await source.uplinkReports()
        } catch {
            return failed(.source, error, now: now)
        }

        let outcome: UplinkTracker.Outcome
        let fresh: [SecurityEvent]
        do {
            let previous = try await store.uplinkSnapshots()
            outcome = tracker.track(previous: previous, reports: reports, now: now)
            // Read-only here; the ids are recorded as seen only after delivery, so a crash in between
            // re-delivers (the detection pipeline counts each id once) rather than loses.
            let unseen = try await store.unseen(source: Self.seenSource, ids: outcome.events.map(\.id))
            fresh = outcome.events.filter { unseen.contains($0.id) }
        } catch {
            return failed(.store, error, now: now)
        }
        for ignored in outcome.ignored {
            logger.debug(
                "uplink report ignored", metadata: ["meraki.serial": "\(ignored.serial)", "uplink.reason": "\(ignored.reason)"])
        }

        let pending = state.withLock { state -> [SecurityEvent] in
            defer { state.pending = [] }
            return state.pending
        }
        // Refused events are re-derived from the unchanged snapshots too: offer each id once.
        let pendingIDs = Set(pending.map(\.id))
        let newOnes = fresh.filter { !pendingIDs.contains($0.id) }
        let deliveries = pending + newOnes
        if !deliveries.isEmpty {
            do {
                try await sink.deliver(deliveries)
            } catch {
                let dropped = max(0, deliveries.count - Self.maxPending)
                state.withLock { $0.pending = Array(deliveries.suffix(Self.maxPending)) }
                if dropped > 0 {
                    logger.error("uplink events dropped: the sink keeps refusing them", metadata: ["uplink.dropped": "\(dropped)"])
                }
                return failed(.sink, error, now: now)
            }
        }
        if !deliveries.isEmpty {
            do {
                _ = try await store.firstSeen(source: Self.seenSource, ids: deliveries.map(\.id), now: now)
            } catch {
                return failed(.store, error, now: now)
            }
        }
        for event in deliveries {
            logger.info(
                "uplink change delivered",
                metadata: [
                    "event.action": "\(event.action)", "event.id": "\(event.id)", "meraki.serial": "\(event.serial ?? "?")",
                    "meraki.network_id": "\(event.networkID ?? "?")",
                ])
        }

        do {
            try await store.saveUplinkSnapshots(outcome.changed, removing: outcome.removed)
        } catch {
            return failed(.store, error, now: now)
        }
        let suppressed = outcome.events.count - newOnes.count
        state.withLock {
            $0.statistics.eventsDelivered += deliveries.count
            $0.statistics.duplicatesSuppressed += suppressed
            $0.statistics.reportsIgnored += outcome.ignored.count
            $0.statistics.lastSuccessAt = now
            $0.statistics.succeededPolls += 1
        }
        if suppressed > 0 {
            logger.debug("uplink changes already delivered before", metadata: ["uplink.suppressed": "\(suppressed)"])
        }
        return .succeeded(delivered: deliveries.count, suppressed: suppressed)
    }

    private func failed(_ stage: Stage, _ error: any Error, now: Date) -> PollResult {
        let message = String(describing: error)
        state.withLock {
            $0.statistics.failedPolls += 1
            $0.statistics.lastFailureAt = now
            $0.statistics.lastError = "\(stage.rawValue): \(message)"
            if case MerakiError.rateLimited(let retryAfter)? = error as? MerakiError { $0.retryAfter = retryAfter }
        }
        let metadata: Logger.Metadata = ["collector.stage": "\(stage.rawValue)", "error": "\(message)"]
        if error is CancellationError {
            logger.debug("uplink poll cancelled", metadata: metadata)
        } else if stage == .source, (error as? MerakiError)?.isRetryable ?? false {
            // 429, 5xx and timeouts happen; the next poll tries again.
            logger.warning("uplink poll failed", metadata: metadata)
        } else {
            logger.error("uplink poll failed", metadata: metadata)
        }
        return .failed(stage, message: message)
    }
}
