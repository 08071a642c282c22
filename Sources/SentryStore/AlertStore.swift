import Foundation
import SentryCore

/// What `ingest` did with a webhook detection (DESIGN.md §4.4).
public enum IngestStatus: String, Codable, Sendable {
    case created, grouped, duplicate
}

public struct IngestResult: Equatable, Sendable {
    public var alertID: String
    public var status: IngestStatus
    public var transition: Transition?

    public init(alertID: String, status: IngestStatus, transition: Transition?) {
        self.alertID = alertID
        self.status = status
        self.transition = transition
    }
}

/// One effect waiting in (or finished in) the outbox.
public struct OutboxEntry: Equatable, Sendable {
    public var id: Int64
    public var alertID: String?
    public var effect: AlertEffect
    public var attempts: Int
    public var idempotencyKey: String
    public var state: String
    public var lastError: String?
}

public struct DueTimer: Equatable, Sendable {
    public var alertID: String
    public var kind: TimerKind
    public var dueAt: Date

    public init(alertID: String, kind: TimerKind, dueAt: Date) {
        self.alertID = alertID
        self.kind = kind
        self.dueAt = dueAt
    }
}

/// One line of the audit hash chain.
public struct AuditEntry: Codable, Equatable, Sendable {
    public var seq: Int64
    public var at: Date
    public var alertID: String?
    public var actor: String
    public var action: String
    public var detail: String
    public var prevHash: String
    public var hash: String
}

/// Counts `/metrics` reads from the database, in one snapshot.
public struct StoreGauges: Equatable, Sendable {
    public var alertsByStatus: [AlertStatus: Int] = [:]
    public var containments: [ContainmentAction.Kind: [Containment.Status: Int]] = [:]
    public var outboxPending = 0
    /// Effects that gave up and are still kept (finished rows are purged after a while).
    public var outboxFailed = 0
    /// What the embedded database holds in this process (SQLite's page caches, statements and the rest of its heap),
    /// when the store is embedded; nil for a server database.
    public var storageMemoryBytes: Int?

    public init() {}
}

/// An alert as stored, with the revision a write must still find to replace it.
public struct StoredAlert: Equatable, Sendable {
    public var alert: Alert
    public var revision: Int64

    public init(alert: Alert, revision: Int64) {
        self.alert = alert
        self.revision = revision
    }
}

public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// Someone else changed the alert since this transaction read it (another replica, another task). Nothing
    /// was written; reading again and deciding again is safe.
    case revisionConflict(alertID: String)
    /// The effect's lease passed to another runner (this one was too slow to renew it): nothing was written, and
    /// the runner that holds it now finishes the effect.
    case leaseLost(effectID: Int64)
    /// The database cannot be reached (down, restarting, refusing connections): nothing was read or written, and
    /// the same request may be sent again once it is back. The text says why, in the store's words.
    case unavailable(String)

    public var description: String {
        switch self {
        case .unavailable(let reason): return reason
        case .revisionConflict(let id): return "alert \(id) changed while this change was being made"
        case .leaseLost(let id): return "effect \(id) was taken over by another runner (its lease ran out)"
        }
    }
}

/// One effect as claimed by a runner: only the lease holder may count its attempts and finish it.
public struct EffectClaim: Hashable, Sendable {
    public var id: Int64
    /// The runner holding the lease (a replica's runner id).
    public var owner: String

    public init(id: Int64, owner: String) {
        self.id = id
        self.owner = owner
    }
}

/// How an outbox item ended.
public enum EffectState: String, Sendable {
    case done, failed
}

/// Persistence of alerts, their audit trail, outbox and timers. It stores and answers; it decides nothing
/// (the engine in SentryEngine does). Every change of an alert happens inside `transaction`.
public protocol AlertStore: Sendable {
    /// Runs `body` as one transaction: everything it writes commits together, or nothing does when it throws.
    /// Reads inside see the transaction's own writes. `body` may run more than once (a store that commits
    /// several transactions together runs it again alone when their shared commit fails), so it must decide from
    /// what it reads and do nothing outside the transaction.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any AlertTransaction) async throws -> T) async throws -> T

    func alert(id: String) async throws -> Alert?
    func alerts(statuses: [AlertStatus], limit: Int) async throws -> [Alert]
    /// How many alerts were created at or after `since` (the Home tab's counts).
    func alertCount(createdSince since: Date) async throws -> Int
    /// How many alerts have one of these statuses (the Home tab's "Open alerts (N)", however many there are).
    func alertCount(statuses: [AlertStatus]) async throws -> Int
    /// Alerts that hold an active containment, whatever their own status (a block outlives the alert's
    /// resolution until it is released or expires), newest first.
    func alertsHoldingActiveContainments(limit: Int) async throws -> [Alert]
    /// Alerts with a timer of this kind set (`.snoozeExpiry`: the snoozes in force), the soonest due first.
    func alerts(withTimer kind: TimerKind, limit: Int) async throws -> [Alert]
    /// What `/sentry stats` and the weekly digest count of the alerts created in `from..<to`, oldest first (an
    /// indexed range on the creation time; the rows carry only the fields the numbers need).
    func statsRows(createdFrom from: Date, to: Date) async throws -> [AlertStatsRow]

    /// The head of each alert's lane that is due, leased or not (a look, not a claim: tools and tests).
    func dueEffects(now: Date, limit: Int) async throws -> [OutboxEntry]
    /// Leases to `owner` until `now + lease` the heads of due lanes that no other runner's live lease holds, and
    /// returns them. The owner's own leases are returned again (renewed): the runner knows which of them it is
    /// still running, and takes back the others (say, one whose result it could not record while the database
    /// was away) at once instead of after the lease. A later effect of an alert never overtakes an earlier one,
    /// leased or waiting. Runners on several replicas claim from one outbox without taking the same row twice.
    func claimEffects(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws -> [OutboxEntry]
    /// Extends `owner`'s leases on these effects to `until`; returns the ids it still holds.
    func renewLeases(_ ids: [Int64], owner: String, until: Date) async throws -> Set<Int64>
    /// Frees every lease: for a store only one runner uses (`isShared` false), whose runner, starting again after
    /// a crash, takes its own unfinished effects back at once.
    func releaseLeases() async throws
    /// Whether runners of several processes may share the store (then a dead one's leases run out instead of
    /// being freed at start).
    var isShared: Bool { get }
    /// Counts an attempt before a non-idempotent effect is executed; returns how many attempts came before it.
    /// Throws `StoreError.leaseLost` (counting nothing) when the claim's owner no longer holds the lease.
    func beginAttempt(_ claim: EffectClaim) async throws -> Int
    /// Marks done those of `ids` that `owner` still holds; returns the ids it no longer held (left as they are).
    @discardableResult
    func completeEffects(_ ids: [Int64], owner: String, now: Date) async throws -> Set<Int64>
    /// The alert's playbook id without decoding the whole alert (the click path reads it).
    func playbookID(ofAlert id: String) async throws -> String?
    /// Schedules another try and frees the lease, changing the attempt count by `attemptDelta`: 1 for an attempt
    /// nobody counted yet, 0 when `beginAttempt` already counted it, -1 to take back one that `beginAttempt`
    /// counted but that Slack certainly never acted on (a rate limit). Throws `StoreError.leaseLost` when the
    /// claim's owner no longer holds the lease.
    func retryEffect(_ claim: EffectClaim, error: String, at: Date, attemptDelta: Int) async throws
    func hasPendingPost(alertID: String) async throws -> Bool
    /// Takes an update out of coalescing once it starts, so a change made while it runs queues a new one.
    func releaseCoalesceKey(_ id: Int64) async throws
    /// Deletes finished outbox rows and remembered detection ids older than the given times.
    func purge(doneBefore: Date, detectionsBefore: Date) async throws -> Int
    /// Ids of resolved or dismissed alerts closed before `cutoff`, oldest first (`SENTRY_RETENTION`: what may be
    /// removed; `Retention.mayRemove` decides).
    func retentionCandidates(closedBefore cutoff: Date, limit: Int) async throws -> [String]
    func gauges() async throws -> StoreGauges
    func outbox(alertID: String?) async throws -> [OutboxEntry]

    func dueTimers(now: Date, limit: Int) async throws -> [DueTimer]
    func nextTimerDue() async throws -> Date?
    /// The timers set for one (pseudo) alert id, by kind (the weekly digest's row).
    func timers(alertID: String) async throws -> [DueTimer]

    func activeContainmentCount() async throws -> Int
    /// The alert that holds a containment.
    func alertID(forContainment id: String) async throws -> String?
    /// Containments of a target that are not released or rejected, oldest first.
    func liveContainments(kind: ContainmentAction.Kind, target: String) async throws -> [LiveContainment]

    func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry]
    func ping() async throws
}

/// What one transaction may read and write. Only the engine holds one.
public protocol AlertTransaction: Sendable {
    /// The alert a detection id was recorded for, when it was seen before.
    func alertID(forDetection id: String) async throws -> String?
    func recordDetection(_ id: String, alertID: String, now: Date) async throws
    func alert(id: String) async throws -> StoredAlert?
    /// Alerts under a group key that may still take detections (open or acknowledged): snoozed ones first, then
    /// newest first. A store may return only the first few.
    func groupCandidates(groupKey: String) async throws -> [StoredAlert]
    func liveContainments(kind: ContainmentAction.Kind, target: String) async throws -> [LiveContainment]
    /// Writes a transition's rows; throws `StoreError.revisionConflict` (writing nothing) when the alert's
    /// revision is no longer `record.expectedRevision`.
    func write(_ record: TransitionRecord, now: Date) async throws
    /// Adds an outbox item unless its idempotency key was used before (then false). A pending item with the
    /// same coalesce key already covers it (then nothing is added either).
    @discardableResult
    func enqueue(_ item: OutboxItem, now: Date) async throws -> Bool
    /// Finishes an effect. With an owner, only while it holds the lease: otherwise it throws `StoreError.leaseLost`
    /// and the whole transaction writes nothing. Without one (an unreadable row), whoever holds it.
    func finishEffect(_ id: Int64, _ state: EffectState, error: String?, owner: String?, now: Date) async throws
    /// Deletes a timer that is due by `dueBy`; false when there is none (fired already, cancelled, or moved
    /// later since it was read as due).
    @discardableResult
    func deleteTimer(alertID: String, kind: TimerKind, dueBy: Date) async throws -> Bool
    /// Removes an alert still at `revision` with everything kept for it (its containments and their journal,
    /// timers and outbox rows; detection ids go after 90 days anyway); its audit entries stay. False when it
    /// changed or is gone.
    @discardableResult
    func removeAlert(_ alert: Alert, revision: Int64) async throws -> Bool
    /// Appends to the audit hash chain.
    func appendAudit(_ record: AuditRecord, alertID: String?, now: Date) async throws
    /// Records collected event ids as counted.
    func recordEvents(source: String, ids: [String], now: Date) async throws
    /// One more event in a rule's window for `key`, at `at` (seconds since 1970).
    func countRuleEvent(rule: String, key: String, at: Double) async throws
    /// A one-shot rule key that fired (it never fires again).
    func recordRuleFired(_ key: String) async throws
}

extension AlertStore {
    /// Alerts by status, from the same snapshot `/metrics` reads.
    public func countAlerts() async throws -> [AlertStatus: Int] { try await gauges().alertsByStatus }

    /// Effects waiting in the outbox.
    public func outboxDepth() async throws -> Int { try await gauges().outboxPending }
}

/// What a containment executor must remember to roll back exactly what it did.
public protocol ContainmentJournal: Sendable {
    /// Saves a fact unless one is saved under that key already; returns the saved value (the first one).
    func remember(containmentID: String, key: String, value: String) async throws -> String
    func recall(containmentID: String) async throws -> [String: String]
}

/// A store several processes share that can tell them when effects are queued (PostgreSQL's LISTEN/NOTIFY).
public protocol WorkNotifying: Sendable {
    /// Calls `wake` whenever a transaction of any process queues an effect (and once on each (re)connection),
    /// until the task is cancelled; reconnects by itself. A hint only: runners still poll.
    func listenForWork(wake: @escaping @Sendable () -> Void) async
}

/// A lease row per role (the pollers' leader): one holder at a time until its term runs out. Terms are in the
/// callers' clock (`now`), so replicas sharing a database need clocks kept in step (NTP); the elector stops
/// acting a second before its term ends.
public protocol LeadershipStore: Sendable {
    /// Takes or renews `role` for `holder` until `now + ttl`: true when the role is (still) the holder's. It is
    /// taken when nobody holds it or the last term ran out, or always with `takeOver` (a store only one process
    /// uses, whose previous holder was this process before a restart).
    func holdLeadership(_ role: String, holder: String, ttl: TimeInterval, now: Date, takeOver: Bool) async throws -> Bool
    /// Gives the role up (at shutdown) so another replica takes it at once; nothing when someone else holds it.
    func resignLeadership(_ role: String, holder: String) async throws
    /// Who holds the role now, if anyone.
    func leader(_ role: String, now: Date) async throws -> String?
}

/// What collectors persist between polls and across restarts.
public protocol DetectorStore: Sendable {
    func checkpoint(_ name: String) async throws -> String?
    func setCheckpoint(_ name: String, _ value: String, now: Date) async throws
    /// Records event ids; returns those never seen before (so a restart neither loses nor double-counts).
    func firstSeen(source: String, ids: [String], now: Date) async throws -> Set<String>
    /// Of these ids, those not recorded as seen; records nothing.
    func unseen(source: String, ids: [String]) async throws -> Set<String>
    func uplinkSnapshots() async throws -> [String: UplinkSnapshot]
    func saveUplinkSnapshots(_ snapshots: [UplinkSnapshot], removing gone: [String]) async throws
    /// The counting state the rule engine resumes from after a restart (what `countRuleEvent` and
    /// `recordRuleFired` wrote).
    func ruleState(since: Date) async throws -> RuleEngine.State
}

/// A store of everything: alerts, containment journal and collector state (what `sentry serve` runs on).
public typealias SentryStorage = AlertStore & ContainmentJournal & DetectorStore & LeadershipStore
