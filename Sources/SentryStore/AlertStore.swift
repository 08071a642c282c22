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

    public init() {}
}

/// Persistence of alerts, their audit trail, outbox and timers. Every event is one transaction.
public protocol AlertStore: Sendable {
    /// A webhook or collector detection: duplicate by id, grouped into an open alert, or a new alert.
    func ingest(_ detection: Detection, playbook: Playbook, channel: String, newAlertID: String, now: Date) async throws -> IngestResult
    /// Runs the machine on the stored alert and writes state, audit and effects together.
    /// `completing` marks an outbox entry done in the same transaction (an effect's result coming back).
    func apply(_ event: AlertEvent, to alertID: String, now: Date, completing: Int64?) async throws -> Transition
    func alert(id: String) async throws -> Alert?
    func alerts(statuses: [AlertStatus], limit: Int) async throws -> [Alert]

    func dueEffects(now: Date, limit: Int) async throws -> [OutboxEntry]
    /// Counts an attempt before a non-idempotent effect is executed; returns how many attempts came before it.
    func beginAttempt(_ id: Int64) async throws -> Int
    func completeEffect(_ id: Int64, now: Date) async throws
    func completeEffects(_ ids: [Int64], now: Date) async throws
    /// The alert's playbook id without decoding the whole alert (the click path reads it).
    func playbookID(ofAlert id: String) async throws -> String?
    /// Schedules another try, changing the attempt count by `attemptDelta`: 1 for an attempt nobody counted yet,
    /// 0 when `beginAttempt` already counted it, -1 to take back one that `beginAttempt` counted but that Slack
    /// certainly never acted on (a rate limit).
    func retryEffect(_ id: Int64, error: String, at: Date, attemptDelta: Int) async throws
    func failEffect(_ id: Int64, error: String, now: Date) async throws
    func hasPendingPost(alertID: String) async throws -> Bool
    /// Takes an update out of coalescing once it starts, so a change made while it runs queues a new one.
    func releaseCoalesceKey(_ id: Int64) async throws
    /// Deletes finished outbox rows and remembered detection ids older than the given times.
    func purge(doneBefore: Date, detectionsBefore: Date) async throws -> Int
    func gauges() async throws -> StoreGauges
    func outbox(alertID: String?) async throws -> [OutboxEntry]
    /// Enqueues an effect not tied to an alert (answers to app mentions); false when the key was seen before.
    func enqueue(_ effect: AlertEffect, idempotencyKey: String, now: Date) async throws -> Bool

    func dueTimers(now: Date, limit: Int) async throws -> [DueTimer]
    func nextTimerDue() async throws -> Date?
    /// Deletes the timer and applies `timerFired` in one transaction.
    func fire(_ timer: DueTimer, now: Date) async throws -> Transition

    func activeContainmentCount() async throws -> Int
    /// The alert that holds a containment.
    func alertID(forContainment id: String) async throws -> String?
    /// Containments of a target that are not released or rejected.
    func liveContainments(kind: ContainmentAction.Kind, target: String) async throws -> [(containmentID: String, alertID: String, status: String)]
    /// A manual alert (from `/sentry block-ip`) and its containment request, in one transaction.
    func createManual(_ detection: Detection, playbook: Playbook, channel: String, newAlertID: String, request: ContainmentRequest, now: Date) async throws -> Transition

    func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry]
    /// An audit entry that belongs to no alert (a refused slash command).
    func recordAudit(_ record: AuditRecord, now: Date) async throws
    func ping() async throws
}

extension AlertStore {
    public func apply(_ event: AlertEvent, to alertID: String, now: Date) async throws -> Transition {
        try await apply(event, to: alertID, now: now, completing: nil)
    }

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
}

extension AlertStore {
    /// Schedules another try; `countAttempt` is false when `beginAttempt` already counted this one.
    public func retryEffect(_ id: Int64, error: String, at: Date, countAttempt: Bool) async throws {
        try await retryEffect(id, error: error, at: at, attemptDelta: countAttempt ? 1 : 0)
    }
}
