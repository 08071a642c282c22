import Foundation

/// Every row a store persists, in a form no store's SQL dialect owns: what `sentry db copy` carries from one
/// store to another. Values are kept as the stores keep them (times as seconds since 1970, alerts, effects
/// and uplink snapshots as their `StoredJSON` text), so a copy changes nothing, not even a byte of a body.
public struct StoreSnapshot: Equatable, Sendable {
    /// The tables a snapshot carries, named as SQLite and PostgreSQL name them. A table a store adds must be
    /// added here too (a test compares this list with the SQLite schema).
    public enum Table: String, CaseIterable, Sendable, Comparable {
        case alert
        case detectionSeen = "detection_seen"
        case outbox, timer, audit, containment
        case containmentJournal = "containment_journal"
        case collectorCheckpoint = "collector_checkpoint"
        case eventSeen = "event_seen"
        case uplinkSnapshot = "uplink_snapshot"
        case ruleWindow = "rule_window"
        case ruleFired = "rule_fired"

        /// The columns a snapshot carries, in SQLite's and PostgreSQL's order.
        public var columns: [String] {
            switch self {
            case .alert: ["id", "group_key", "status", "group_until", "created_at", "updated_at", "revision", "body"]
            case .detectionSeen: ["id", "alert_id", "received_at"]
            case .outbox:
                [
                    "id", "alert_id", "effect", "coalesce_key", "idempotency_key", "state", "attempts", "next_attempt_at", "created_at",
                    "finished_at", "last_error", "ordered",
                ]
            case .timer: ["alert_id", "kind", "due_at"]
            case .audit: ["seq", "at", "alert_id", "actor", "action", "detail", "prev_hash", "hash"]
            case .containment: ["id", "alert_id", "kind", "target", "status"]
            case .containmentJournal: ["containment_id", "key", "value"]
            case .collectorCheckpoint: ["name", "value", "updated_at"]
            case .eventSeen: ["source", "id", "at"]
            case .uplinkSnapshot: ["key", "body"]
            case .ruleWindow: ["rule", "key", "bucket", "count"]
            case .ruleFired: ["rule", "key", "period"]
            }
        }

        /// How `sentry db copy` names the kind of row when it counts them.
        public var label: String {
            switch self {
            case .alert: "alerts"
            case .detectionSeen: "detection ids"
            case .outbox: "outbox items"
            case .timer: "timers"
            case .audit: "audit entries"
            case .containment: "containments"
            case .containmentJournal: "containment journal facts"
            case .collectorCheckpoint: "collector checkpoints"
            case .eventSeen: "collected event ids"
            case .uplinkSnapshot: "uplink snapshots"
            case .ruleWindow: "rule window buckets"
            case .ruleFired: "fired rule keys"
            }
        }

        public static func < (a: Table, b: Table) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// What the stores keep that a copy leaves behind on purpose, with the reason: claims and terms belong to
    /// the processes of the source, and a copy is nobody's. Keys are `table` or `table.column`; a test
    /// compares copied and left-behind together with the SQLite schema.
    public static let notCopied: [String: String] = [
        "outbox.leased_by": "an effect's claim belongs to a runner of the source: a copied item is unclaimed",
        "outbox.leased_until": "an effect's claim belongs to a runner of the source: a copied item is unclaimed",
        "leadership": "a poller's term belongs to a process of the source: the target's replicas elect their own",
        "alert.acknowledged_at": statsColumn, "alert.closed_at": statsColumn, "alert.playbook_id": statsColumn, "alert.detection": statsColumn,
        "alert.subject_label": statsColumn, "alert.containments_placed": statsColumn, "alert.containments_approved": statsColumn,
        "alert.containments_rejected": statsColumn, "alert.containments_rolled_back": statsColumn,
    ]

    /// Why the alert's stats columns are not carried: the target derives them from the body it receives.
    static let statsColumn = "what /sentry stats counts, derived again from the alert's body by the target (as on every write)"

    public struct AlertRow: Equatable, Sendable {
        public var id, groupKey, status: String
        public var groupUntil, createdAt, updatedAt: Double
        public var revision: Int64
        /// The alert as `StoredJSON` text: its message (channel, ts), snooze, containments and everything else.
        public var body: String

        public init(
            id: String, groupKey: String, status: String, groupUntil: Double, createdAt: Double, updatedAt: Double, revision: Int64, body: String
        ) {
            (self.id, self.groupKey, self.status, self.groupUntil) = (id, groupKey, status, groupUntil)
            (self.createdAt, self.updatedAt, self.revision, self.body) = (createdAt, updatedAt, revision, body)
        }
    }

    public struct DetectionRow: Equatable, Sendable {
        public var id, alertID: String
        public var receivedAt: Double

        public init(id: String, alertID: String, receivedAt: Double) { (self.id, self.alertID, self.receivedAt) = (id, alertID, receivedAt) }
    }

    public struct OutboxRow: Equatable, Sendable {
        public var id: Int64
        public var alertID: String?
        /// The effect as `StoredJSON` text.
        public var effect: String
        public var coalesceKey: String?
        public var idempotencyKey, state: String
        public var attempts: Int
        public var nextAttemptAt, createdAt: Double
        public var finishedAt: Double?
        public var lastError: String?
        public var ordered: Bool

        public init(
            id: Int64, alertID: String?, effect: String, coalesceKey: String?, idempotencyKey: String, state: String, attempts: Int,
            nextAttemptAt: Double, createdAt: Double, finishedAt: Double?, lastError: String?, ordered: Bool
        ) {
            (self.id, self.alertID, self.effect, self.coalesceKey, self.idempotencyKey) = (id, alertID, effect, coalesceKey, idempotencyKey)
            (self.state, self.attempts, self.nextAttemptAt, self.createdAt) = (state, attempts, nextAttemptAt, createdAt)
            (self.finishedAt, self.lastError, self.ordered) = (finishedAt, lastError, ordered)
        }
    }

    public struct TimerRow: Equatable, Sendable {
        public var alertID, kind: String
        public var dueAt: Double

        public init(alertID: String, kind: String, dueAt: Double) { (self.alertID, self.kind, self.dueAt) = (alertID, kind, dueAt) }
    }

    public struct ContainmentRow: Equatable, Sendable {
        public var id, alertID, kind, target, status: String

        public init(id: String, alertID: String, kind: String, target: String, status: String) {
            (self.id, self.alertID, self.kind, self.target, self.status) = (id, alertID, kind, target, status)
        }
    }

    public struct JournalRow: Equatable, Sendable {
        public var containmentID, key, value: String

        public init(containmentID: String, key: String, value: String) { (self.containmentID, self.key, self.value) = (containmentID, key, value) }
    }

    public struct CheckpointRow: Equatable, Sendable {
        public var name, value: String
        public var updatedAt: Double

        public init(name: String, value: String, updatedAt: Double) { (self.name, self.value, self.updatedAt) = (name, value, updatedAt) }
    }

    public struct EventSeenRow: Equatable, Sendable {
        public var source, id: String
        public var at: Double

        public init(source: String, id: String, at: Double) { (self.source, self.id, self.at) = (source, id, at) }
    }

    public struct UplinkRow: Equatable, Sendable {
        public var key: String
        /// The snapshot as `StoredJSON` text.
        public var body: String

        public init(key: String, body: String) { (self.key, self.body) = (key, body) }
    }

    public struct RuleWindowRow: Equatable, Sendable {
        public var rule, key: String
        /// Milliseconds since 1970.
        public var bucket, count: Int64

        public init(rule: String, key: String, bucket: Int64, count: Int64) {
            (self.rule, self.key, self.bucket, self.count) = (rule, key, bucket, count)
        }
    }

    public struct RuleFiredRow: Equatable, Sendable {
        public var rule, key: String
        public var period: Int64

        public init(rule: String, key: String, period: Int64) { (self.rule, self.key, self.period) = (rule, key, period) }
    }

    /// In order: alerts and containments as they were made (group candidates and live containments break
    /// ties by it), outbox by id, audit by seq, the rest by key.
    public var alerts: [AlertRow] = []
    public var detections: [DetectionRow] = []
    public var outbox: [OutboxRow] = []
    public var timers: [TimerRow] = []
    public var audit: [AuditEntry] = []
    public var containments: [ContainmentRow] = []
    public var journal: [JournalRow] = []
    public var checkpoints: [CheckpointRow] = []
    public var eventsSeen: [EventSeenRow] = []
    public var uplinkSnapshots: [UplinkRow] = []
    public var ruleWindows: [RuleWindowRow] = []
    public var ruleFired: [RuleFiredRow] = []

    public init() {}

    /// Rows per table.
    public var counts: [Table: Int] {
        [
            .alert: alerts.count, .detectionSeen: detections.count, .outbox: outbox.count, .timer: timers.count, .audit: audit.count,
            .containment: containments.count, .containmentJournal: journal.count, .collectorCheckpoint: checkpoints.count,
            .eventSeen: eventsSeen.count, .uplinkSnapshot: uplinkSnapshots.count, .ruleWindow: ruleWindows.count, .ruleFired: ruleFired.count,
        ]
    }
}

/// A store that can hand over every row it keeps and take a whole snapshot in, for `sentry db copy`.
/// Each store reads and writes only its own tables; neither knows the other's SQL.
public protocol StoreSnapshotting: Sendable {
    /// Every row, read in one consistent snapshot (one read transaction).
    func exportSnapshot() async throws -> StoreSnapshot
    /// Rows per table now.
    func rowCounts() async throws -> [StoreSnapshot.Table: Int]
    /// Writes the snapshot in one transaction: everything or, when it throws, nothing. Without `replacing` it
    /// throws `StoreCopyError.targetNotEmpty` when any table holds a row (checked inside that transaction);
    /// with it, every row there is deleted first. The audit chain as written is read back and verified before
    /// the commit (`StoreCopyError.auditChainBroken`). Copied outbox items are nobody's: unclaimed.
    func importSnapshot(_ snapshot: StoreSnapshot, replacing: Bool) async throws
}

/// Why a copy did not happen; nothing was written to the target.
public enum StoreCopyError: Error, Equatable, CustomStringConvertible {
    case targetNotEmpty([StoreSnapshot.Table: Int])
    case auditChainBroken(store: String, verdict: AuditChain.Verdict)

    public var description: String {
        switch self {
        case .targetNotEmpty(let counts):
            let held = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key.label): \($0.value)" }.joined(separator: ", ")
            return "the target is not empty (\(held)): copy into an empty database, or pass --replace-target to delete what it holds first"
        case .auditChainBroken(let store, let verdict):
            return "the \(store)'s \(verdict)"
        }
    }

    /// Throws unless `entries` form an intact chain (what a store checks before committing an import).
    public static func requireIntact(_ entries: [AuditEntry], store: String) throws {
        let verdict = AuditChain.verify(entries)
        if case .broken = verdict { throw StoreCopyError.auditChainBroken(store: store, verdict: verdict) }
    }
}

/// `sentry db copy` without the command line: checks the source's chain, imports, and verifies the target.
public enum StoreCopy {
    /// Copies everything `source` keeps into `target`; returns the rows copied per table and the target's
    /// verdict on its audit chain (read back through `auditEntries`, as `sentry audit verify` reads it).
    public static func run(
        from source: any StoreSnapshotting, to target: any StoreSnapshotting & AlertStore, replacing: Bool
    ) async throws -> (counts: [StoreSnapshot.Table: Int], verdict: AuditChain.Verdict) {
        let snapshot = try await source.exportSnapshot()
        // A broken chain is not made whole by copying it: say so before anything is written.
        try StoreCopyError.requireIntact(snapshot.audit, store: "source")
        try await target.importSnapshot(snapshot, replacing: replacing)
        var entries: [AuditEntry] = []
        while true {
            let page = try await target.auditEntries(after: entries.last?.seq ?? 0, limit: 10_000)
            if page.isEmpty { break }
            entries += page
        }
        return (snapshot.counts, AuditChain.verify(entries))
    }
}
