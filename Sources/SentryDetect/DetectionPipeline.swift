import Foundation
import Logging
import SentryCore
import SentryEngine
import SentryStore

/// Collected events → the rule engine → alerts, one transaction per batch: new event ids, window counts,
/// fired keys and the alerts their detections create or grow commit together, so a restart neither forgets
/// nor double-counts.
public actor DetectionPipeline: EventSink {
    let engine: RuleEngine
    var state: RuleEngine.State
    let store: any AlertStore & DetectorStore
    /// Where the batch's alerts are made: one transaction per batch.
    var alerts: AlertEngine { AlertEngine(store: store) }
    let catalog: PlaybookCatalog
    let channel: String?
    let now: @Sendable () -> Date
    let logger: Logger
    let onAlerts: @Sendable () -> Void
    /// `SENTRY_DRY_RUN=1`: automatic approved-only containments are recorded, never executed.
    let dryRun: Bool
    public private(set) var counters = Counters()

    public struct Counters: Sendable, Equatable {
        public var events = 0
        public var duplicates = 0
        public var detections = 0
    }

    /// Loads the counting state (the longest window back) and starts.
    public init(
        playbooks: [Playbook], store: any AlertStore & DetectorStore, channel: String?, now: @escaping @Sendable () -> Date, logger: Logger,
        maxLateness: Int = 3_600, dryRun: Bool = false, onAlerts: @escaping @Sendable () -> Void
    ) async throws {
        self.dryRun = dryRun
        let engine = try RuleEngine(playbooks: playbooks, maxLateness: maxLateness)
        self.engine = engine
        self.store = store
        self.catalog = PlaybookCatalog(playbooks)
        self.channel = channel
        self.now = now
        self.logger = logger
        self.onAlerts = onAlerts
        self.maxLateness = maxLateness
        self.state = try await store.ruleState(since: Self.stateHorizon(engine: engine, maxLateness: maxLateness, now: now()))
    }

    let maxLateness: Int

    /// Everything a late event may still need: the longest window (or a UTC day) and the lateness, twice over.
    static func stateHorizon(engine: RuleEngine, maxLateness: Int, now: Date) -> Date {
        let longest = engine.rules.map(\.window).max() ?? 86_400
        return now.addingTimeInterval(-Double(max(longest, 2 * 86_400) + maxLateness) * 2)
    }

    /// Reads the counting state from the store again (between deliveries): a replica that becomes the pollers'
    /// leader counts on from what the last leader committed, not from what it read at its own start.
    public func reload() async throws {
        while busy { await withCheckedContinuation { waiting.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        state = try await store.ruleState(since: Self.stateHorizon(engine: engine, maxLateness: maxLateness, now: now()))
    }

    /// Counted ids live apart from the collectors' own seen ids: a collector may re-deliver, the rules count once.
    static func namespace(_ source: SecurityEvent.Source) -> String { "rules:" + source.rawValue }

    /// Deliveries run one at a time: each builds on the counting state the previous one left, and an actor
    /// alone would interleave them at every `await`.
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public func deliver(_ events: [SecurityEvent]) async throws {
        guard !events.isEmpty else { return }
        while busy { await withCheckedContinuation { waiting.append($0) } }
        busy = true
        defer {
            busy = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        try await deliverSerially(events)
    }

    private func deliverSerially(_ events: [SecurityEvent]) async throws {
        var fresh: [SecurityEvent] = []
        var ids: [SecurityEvent.Source: [String]] = [:]
        var inBatch = Set<String>()
        for source in SecurityEvent.Source.allCases {
            let candidates = events.filter { $0.source == source }
            guard !candidates.isEmpty else { continue }
            let unseen = try await store.unseen(source: Self.namespace(source), ids: candidates.map(\.id))
            for event in candidates where unseen.contains(event.id) && inBatch.insert(source.rawValue + "|" + event.id).inserted {
                fresh.append(event)
                ids[source, default: []].append(event.id)
            }
        }
        counters.duplicates += events.count - fresh.count
        guard !fresh.isEmpty else { return }
        fresh.sort { $0.at < $1.at }
        var next = state
        let outcome = engine.process(fresh, state: &next)
        var detections: [(Detection, Playbook, String, String)] = []
        for detection in outcome.detections {
            guard let playbook = catalog.playbook(for: detection.detection), let target = playbook.channel ?? channel else {
                logger.error("detection has no playbook or channel; dropped", metadata: ["detection": "\(detection.detection)"])
                continue
            }
            detections.append((detection, playbook, target, AlertID.make()))
        }
        // Approved-only hears every uplink move, whether or not its playbook alerts on it: first the alerts already
        // restricting a network (a recovery starts their debounce, a failover inside it cancels the rollback). A crash
        // before the batch commits repeats this, which the machine ignores.
        var heldElsewhere: [String: [String]] = [:]
        for event in fresh {
            guard let change = UplinkChangeRouting.change(event) else { continue }
            heldElsewhere[change.networkID] = try await UplinkChangeRouting.route(change, engine: alerts, now: now())
        }
        // Then a failover's own alert, in the batch's transaction, so an `auto: true` containment is never lost.
        var followUps: [String: AlertEvent] = [:]
        for (detection, _, _, _) in detections {
            guard var change = UplinkChange.from(detection, receivedAt: now()), change.kind == .cellularFailover else { continue }
            change.heldElsewhere = heldElsewhere[change.networkID] ?? []
            change.dryRun = dryRun
            followUps[detection.id] = .uplinkChanged(change)
        }
        let seen = ids.flatMap { source, list in list.map { (source: Self.namespace(source), id: $0) } }
        let results = try await alerts.commitRuleBatch(
            eventIDs: seen, counted: outcome.counted, fired: outcome.fired, detections: detections, followUps: followUps, now: now())
        state = next
        counters.events += fresh.count
        counters.detections += detections.count
        if results.contains(where: { $0.status != .duplicate }) {
            for result in results {
                logger.info("built-in detection", metadata: ["alert.id": "\(result.alertID)", "status": "\(result.status.rawValue)"])
            }
            onAlerts()
        }
    }
}
