import Foundation
import SentryEngine
import SentryStore

@testable import SentryCore

/// A store with something in every table, made through the engine and the store API as `serve` makes it:
/// alerts open (posted, snoozed), acknowledged, resolved and with an active block, detection ids, pending,
/// retried and finished outbox items (one not tied to an alert), timers, the audit chain, the containment
/// journal, collector checkpoints, seen event ids, uplink snapshots, rule windows and fired keys.
public enum StoreCopyFixture {
    public typealias F = CoreFixtures

    public static func at(_ seconds: TimeInterval) -> Date { F.t0.addingTimeInterval(seconds) }

    public static let alertIDs = ["A1", "A2", "A3", "A4"]
    public static let blockTarget = "198.51.100.9"
    /// The source's runner, which holds leases on the pending heads when the copy is made.
    public static let runner = "source-runner"

    public static func populate(_ store: any SentryStorage, tag: String = "") async throws {
        let engine = AlertEngine(store: store)
        let blocking = F.playbook(actions: [ContainmentAction(kind: .blockIP, approvals: 0, ttl: 3_600)])
        func click(_ action: AlertAction, _ user: String = F.alice) -> AlertEvent {
            .clicked(Click(action: action, userID: user, mayAct: true, responseURL: nil))
        }
        _ = try await engine.ingest(F.detection(id: "d1\(tag)"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        _ = try await engine.ingest(F.detection(id: "d1b\(tag)"), playbook: F.playbook(), channel: F.channel, newAlertID: "A9", now: at(1))
        try await engine.apply(.messagePosted(MessageRef(channel: F.channel, ts: "1790000000.000100")), to: "A1", now: at(2))
        try await engine.apply(
            .snoozeRequested(SnoozeRequest(userID: F.alice, mayAct: true, duration: 7_200, reason: "known scanner")), to: "A1", now: at(3))

        _ = try await engine.ingest(
            F.detection(id: "d2\(tag)", subject: Subject(ip: "192.0.2.2")), playbook: F.playbook(), channel: F.channel, newAlertID: "A2",
            now: at(4))
        try await engine.apply(.messagePosted(MessageRef(channel: F.channel, ts: "1790000004.000200")), to: "A2", now: at(5))
        try await engine.apply(click(.ack, F.bob), to: "A2", now: at(6))

        _ = try await engine.ingest(
            F.detection(id: "d3\(tag)", subject: Subject(ip: "192.0.2.3")), playbook: F.playbook(), channel: F.channel, newAlertID: "A3",
            now: at(7))
        try await engine.apply(click(.resolve), to: "A3", now: at(8))

        _ = try await engine.ingest(
            F.detection(id: "d4\(tag)", subject: Subject(ip: blockTarget)), playbook: blocking, channel: F.channel, newAlertID: "A4", now: at(9))
        try await engine.apply(
            .containmentRequested(
                ContainmentRequest(
                    id: "C-1", kind: .blockIP, target: blockTarget, ttl: 3_600, reason: "brute force", requestedBy: F.alice, mayContain: true,
                    approvalsRequired: 0, dryRun: false)), to: "A4", now: at(10))
        try await engine.apply(.containmentSucceeded(id: "C-1", phase: .execute, report: "written to N1"), to: "A4", now: at(11))
        _ = try await store.remember(containmentID: "C-1", key: "networks", value: "N1,N2")

        // The outbox in several states: the first item done, the second retried with an error, the rest pending,
        // and every pending head claimed by this process's runner (a copy leaves the claims behind).
        let items = try await store.claimEffects(owner: runner, now: at(12), lease: 30, limit: 100)
        try await store.completeEffects([items[0].id], owner: runner, now: at(12))
        try await store.retryEffect(EffectClaim(id: items[1].id, owner: runner), error: "rate limited", at: at(12), attemptDelta: 1)
        _ = try await store.claimEffects(owner: runner, now: at(12), lease: 30, limit: 100)
        _ = try await engine.enqueue(
            .tellUser(userID: F.bob, text: "hello", responseURL: nil), idempotencyKey: "mention-1\(tag)", now: at(13))

        try await store.setCheckpoint("slack-audit", "cursor-\(tag)42", now: at(14))
        try await store.setCheckpoint("meraki-uplinks", "2026-12-01T00:00:00Z", now: at(15))
        _ = try await store.firstSeen(source: "syslog", ids: ["s1", "s2"], now: at(16))
        try await store.saveUplinkSnapshots(
            [
                UplinkSnapshot(
                    serial: "Q2XX-1", interface: "wan1", networkID: "N1", status: "active", ip: "10.0.0.2", publicIP: "203.0.113.20",
                    reportedAt: at(17), carried: true)
            ], removing: [])
        _ = try await engine.commitRuleBatch(
            eventIDs: [("rules:audit", "e1"), ("rules:audit", "e2")],
            counted: [("r1", "ip=1", 1_790_000_100), ("r1", "ip=1", 1_790_000_100), ("r1", "ip=2", 1_790_000_101.5)], fired: ["r2|u=1"],
            detections: [], now: at(18))
    }

    /// What the store API answers about a populated store: equal for the source and its copy.
    public struct View: Equatable {
        public var alerts: [Alert?]
        public var listed: [Alert]
        public var outbox: [OutboxEntry]
        public var timers: [DueTimer]
        public var nextTimer: Date?
        public var audit: [AuditEntry]
        public var live: [LiveContainment]
        public var active: Int
        public var holder: String?
        public var journal: [String: String]
        public var checkpoints: [String?]
        public var uplinks: [String: UplinkSnapshot]
        public var ruleTimes: [String: [Double]]
        public var ruleFired: Set<String>
        public var unseen: Set<String>
        public var gauges: StoreGauges
        public var created: Int
        public var pendingPost: Bool
        public var detections: [String?]
    }

    public static func view(_ store: any SentryStorage) async throws -> View {
        var alerts: [Alert?] = []
        for id in alertIDs + ["A9"] { alerts.append(try await store.alert(id: id)) }
        let rules = try await store.ruleState(since: Date(timeIntervalSince1970: 0))
        // What the database engine holds in memory is the process's, not the data's: never copied.
        var gauges = try await store.gauges()
        gauges.storageMemoryBytes = nil
        let detections = try await store.transaction { tx in
            var found: [String?] = []
            for id in ["d1", "d1b", "d2", "d3", "d4", "nope"] { found.append(try await tx.alertID(forDetection: id)) }
            return found
        }
        return View(
            alerts: alerts, listed: try await store.alerts(statuses: [.open, .acknowledged, .resolved, .dismissed], limit: 100),
            outbox: try await store.outbox(alertID: nil), timers: try await store.dueTimers(now: at(1_000_000), limit: 100),
            nextTimer: try await store.nextTimerDue(), audit: try await store.auditEntries(after: 0, limit: 1_000),
            live: try await store.liveContainments(kind: .blockIP, target: blockTarget), active: try await store.activeContainmentCount(),
            holder: try await store.alertID(forContainment: "C-1"), journal: try await store.recall(containmentID: "C-1"),
            checkpoints: [try await store.checkpoint("slack-audit"), try await store.checkpoint("meraki-uplinks")],
            uplinks: try await store.uplinkSnapshots(), ruleTimes: rules.times, ruleFired: rules.fired,
            unseen: try await store.unseen(source: "syslog", ids: ["s1", "s2", "s3"]), gauges: gauges,
            created: try await store.alertCount(createdSince: F.t0), pendingPost: try await store.hasPendingPost(alertID: "A3"),
            detections: detections)
    }
}
