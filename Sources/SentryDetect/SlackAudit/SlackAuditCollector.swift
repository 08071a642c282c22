import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryStore
import ServiceLifecycle

/// Polls Slack's audit logs for the actions the built-in detections read (DESIGN.md §4.7) and delivers each
/// entry to the rule engine once, across overlapping polls, late entries and restarts.
///
/// Each poll asks for entries from the checkpoint (the newest `date_create` fully delivered) minus an overlap,
/// because Slack may publish an entry after newer ones. Ids the store has seen are dropped; the rest are
/// delivered oldest first, and only then does the checkpoint move. A failed poll changes nothing but the
/// seen ids of events kept for redelivery (see `pendingKey`), and the next poll starts over.
public actor SlackAuditCollector: Service {
    /// Epoch seconds of the newest entry delivered.
    public static let checkpointKey = "slack-audit.oldest"
    /// Events marked seen but not yet accepted by the sink, as JSON, so a failed delivery is retried (even
    /// after a restart) instead of being lost to the seen-id filter.
    public static let pendingKey = "slack-audit.pending"
    /// The `firstSeen` namespace of audit entry ids.
    public static let seenSource = SecurityEvent.Source.slackAudit.rawValue

    /// The actions §4.7's detections read, spelled as Slack's `GET /audit/v1/actions` lists them.
    public static let detectionActions = [
        "file_downloaded", "file_uploaded", "file_public_link_created",
        "user_login_failed", "ip_allowlist_access_denied", "anomaly",
    ]

    public struct Configuration: Sendable, Equatable {
        /// Time between polls (`SENTRY_SLACK_AUDIT_INTERVAL`).
        public var interval: Duration
        /// How far before the checkpoint each poll looks again, for entries Slack publishes late.
        public var overlap: Duration
        /// How far back the very first poll looks, when there is no checkpoint yet.
        public var initialLookback: Duration
        /// Entries per page (Slack allows up to 9999).
        public var pageSize: Int
        public var actions: [String]

        public init(
            interval: Duration = .seconds(60), overlap: Duration = .seconds(120), initialLookback: Duration = .seconds(3_600),
            pageSize: Int = 1_000, actions: [String] = SlackAuditCollector.detectionActions
        ) {
            self.interval = interval
            self.overlap = overlap
            self.initialLookback = initialLookback
            self.pageSize = pageSize
            self.actions = actions
        }
    }

    /// What one poll did.
    public struct PollResult: Sendable, Equatable {
        public var pages: Int
        /// Readable entries Slack returned, seen before or not.
        public var fetched: Int
        public var delivered: Int
        /// Entries dropped because an earlier poll delivered them (the overlap, a restart).
        public var duplicates: Int
        public var malformed: Int
        /// The checkpoint after the poll, epoch seconds; nil while nothing was ever seen.
        public var checkpoint: Int64?

        public init(pages: Int, fetched: Int, delivered: Int, duplicates: Int, malformed: Int, checkpoint: Int64?) {
            self.pages = pages
            self.fetched = fetched
            self.delivered = delivered
            self.duplicates = duplicates
            self.malformed = malformed
            self.checkpoint = checkpoint
        }
    }

    /// Counters since start-up and the collector's position, for `/metrics` and logs.
    public struct Stats: Sendable, Equatable {
        /// Polls started; `succeededPolls` and `failedPolls` count the finished ones.
        public var polls = 0
        public var succeededPolls = 0
        public var failedPolls = 0
        public var pages = 0
        public var fetched = 0
        public var delivered = 0
        public var duplicates = 0
        public var malformed = 0
        /// Time of the newest entry delivered (the checkpoint).
        public var newestEntryAt: Date?
        public var lastPollAt: Date?
        public var lastSuccessAt: Date?
        /// `lastPollAt − newestEntryAt` as of the last successful poll.
        public var lag: TimeInterval?
        /// The last poll's failure in one line; nil once a poll succeeds.
        public var lastError: String?
    }

    /// Two polls overlapping (a test's `pollOnce` while `run` polls).
    public struct AlreadyPolling: Error, Equatable {}

    public let configuration: Configuration
    private let source: any AuditLogReading
    private let store: any DetectorStore
    private let sink: any EventSink
    private let clock: any SentryClock
    private let logger: Logger
    public private(set) var stats = Stats()
    private var polling = false

    public init(
        source: any AuditLogReading,
        store: any DetectorStore,
        sink: any EventSink,
        configuration: Configuration = Configuration(),
        clock: any SentryClock = SystemClock(),
        logger: Logger
    ) {
        self.source = source
        self.store = store
        self.sink = sink
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// Seconds between the newest entry delivered and `date`; nil while nothing was delivered.
    public func lag(at date: Date) -> TimeInterval? {
        stats.newestEntryAt.map { date.timeIntervalSince($0) }
    }

    public func run() async throws {
        let interval = configuration.interval
        logger.info(
            "slack audit collector started",
            metadata: ["slack_audit.interval": "\(interval)", "slack_audit.actions": "\(configuration.actions.joined(separator: ","))"]
        )
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.pollOnce()
                } catch is CancellationError {
                    return
                } catch {
                    // Logged by the poll; the checkpoint did not move, so the next poll retries.
                }
                do { try await self.clock.sleep(for: interval) } catch { return }
            }
        }
        logger.info("slack audit collector stopped")
    }

    /// One poll: fetch every page since the checkpoint (less the overlap), deliver what is new, advance.
    @discardableResult
    public func pollOnce() async throws -> PollResult {
        guard !polling else { throw AlreadyPolling() }
        polling = true
        defer { polling = false }
        let started = clock.now()
        stats.polls += 1
        stats.lastPollAt = started
        do {
            let result = try await poll(at: started)
            stats.lastSuccessAt = started
            stats.lastError = nil
            stats.succeededPolls += 1
            stats.lag = stats.newestEntryAt.map { started.timeIntervalSince($0) }
            return result
        } catch {
            stats.failedPolls += 1
            if !(error is CancellationError) {
                stats.lastError = String("\(error)".prefix(300))
                logger.warning("slack audit poll failed; checkpoint kept", metadata: ["slack_audit.error": "\(error)"])
            }
            throw error
        }
    }

    private func poll(at started: Date) async throws -> PollResult {
        let checkpoint = try await storedCheckpoint()
        if let checkpoint, stats.newestEntryAt == nil {
            stats.newestEntryAt = Date(timeIntervalSince1970: TimeInterval(checkpoint))
        }
        let oldest =
            checkpoint.map { max(0, $0 - Self.wholeSeconds(configuration.overlap)) }
            ?? max(0, Int64(started.timeIntervalSince1970) - Self.wholeSeconds(configuration.initialLookback))

        let (page, pages) = try await source.allLogs(
            SlackAuditQuery(oldest: oldest, limit: configuration.pageSize, actions: configuration.actions))
        stats.pages += pages
        stats.fetched += page.events.count
        if page.malformed > 0 {
            stats.malformed += page.malformed
            logger.warning("slack audit entries unreadable; skipped", metadata: ["slack_audit.malformed": "\(page.malformed)"])
        }

        // An id may repeat across pages when entries arrive while paging; the first copy stands.
        var unique: [SecurityEvent] = []
        var ids: Set<String> = []
        for event in page.events where ids.insert(event.id).inserted { unique.append(event) }

        let pending = try await storedPending()
        // Kept as pending *before* the ids are recorded as seen: a crash in between then re-delivers (the
        // detection pipeline counts each event id once) instead of losing the events.
        let unseen = try await store.unseen(source: Self.seenSource, ids: unique.map(\.id))
        let new = unique.filter { unseen.contains($0.id) }
        var deliveries = pending + new
        deliveries.sort { ($0.at, $0.id) < ($1.at, $1.id) }
        if !new.isEmpty {
            try await store.setCheckpoint(Self.pendingKey, try Self.encode(deliveries), now: clock.now())
            _ = try await store.firstSeen(source: Self.seenSource, ids: new.map(\.id), now: clock.now())
        }
        if !deliveries.isEmpty {
            try await sink.deliver(deliveries)
            try await store.setCheckpoint(Self.pendingKey, "[]", now: clock.now())
        }

        let newest = (unique.map { Int64($0.at.timeIntervalSince1970) } + (checkpoint.map { [$0] } ?? [])).max()
        if let newest, newest != checkpoint {
            try await store.setCheckpoint(Self.checkpointKey, String(newest), now: clock.now())
        }
        if let newest { stats.newestEntryAt = Date(timeIntervalSince1970: TimeInterval(newest)) }

        let duplicates = unique.count - new.count
        stats.delivered += deliveries.count
        stats.duplicates += duplicates
        let result = PollResult(
            pages: pages, fetched: page.events.count, delivered: deliveries.count, duplicates: duplicates,
            malformed: page.malformed, checkpoint: newest)
        logger.debug(
            "slack audit poll done",
            metadata: [
                "slack_audit.pages": "\(pages)", "slack_audit.fetched": "\(result.fetched)", "slack_audit.delivered": "\(result.delivered)",
                "slack_audit.duplicates": "\(duplicates)", "slack_audit.oldest": "\(oldest)",
                "slack_audit.checkpoint": "\(newest.map(String.init) ?? "none")",
            ]
        )
        return result
    }

    private func storedCheckpoint() async throws -> Int64? {
        guard let text = try await store.checkpoint(Self.checkpointKey) else { return nil }
        guard let value = Int64(text) else {
            logger.error("slack audit checkpoint unreadable; starting from the initial look-back", metadata: ["slack_audit.checkpoint": "\(text)"])
            return nil
        }
        return value
    }

    private func storedPending() async throws -> [SecurityEvent] {
        guard let text = try await store.checkpoint(Self.pendingKey), text != "[]" else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard let events = try? decoder.decode([SecurityEvent].self, from: Data(text.utf8)) else {
            logger.error("slack audit pending events unreadable; dropped")
            return []
        }
        return events
    }

    private static func encode(_ events: [SecurityEvent]) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(events), as: UTF8.self)
    }

    private static func wholeSeconds(_ duration: Duration) -> Int64 {
        duration.components.seconds
    }
}
