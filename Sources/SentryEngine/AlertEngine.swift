import Foundation
import SentryCore
import SentryStore

/// The one place alerts change. Every event runs the same way, whatever store is underneath: open a
/// transaction, read the alert with its revision, let `AlertMachine` decide, write the decision (state,
/// audit entry, outbox effects and timers) and commit. The store stores; the engine decides.
///
/// An engine holds no state of its own, so a new engine over the same store (a restart, another replica)
/// carries on exactly where the last one stopped. When another writer changed the alert in between (a
/// revision conflict), the whole step is read and decided again.
public struct AlertEngine: Sendable {
    public let store: any AlertStore
    /// How many times a step is decided again after a revision conflict before the conflict is thrown.
    public var conflictRetries = 8

    public init(store: any AlertStore) {
        self.store = store
    }

    // MARK: Events

    /// A webhook or collector detection: a duplicate by id, grouped into an open alert, or a new alert.
    public func ingest(_ detection: Detection, playbook: Playbook, channel: String, newAlertID: String, now: Date) async throws -> IngestResult {
        try await step { tx in
            try await Self.ingest(detection, playbook: playbook, channel: channel, newAlertID: newAlertID, now: now, in: tx)
        }
    }

    /// Runs the machine on the stored alert. `completing` marks a claimed outbox entry done in the same
    /// transaction (an effect's result coming back); when its runner lost the lease, nothing is written and
    /// `StoreError.leaseLost` is thrown (the runner holding it now records the result).
    @discardableResult
    public func apply(_ event: AlertEvent, to alertID: String, now: Date, completing: EffectClaim? = nil) async throws -> Transition {
        try await step { tx in
            if let completing { try await tx.finishEffect(completing.id, .done, error: nil, owner: completing.owner, now: now) }
            return try await Self.apply(event, to: alertID, now: now, in: tx)
        }
    }

    /// A due timer: deletes it and applies `timerFired` together. A timer someone else already fired,
    /// cancelled, or moved later since it was read as due changes nothing (the moved one fires at its new time).
    public func fire(_ timer: DueTimer, now: Date) async throws -> Transition {
        if case .weeklyDigest = timer.kind { return try await fireDigest(timer, now: now) }
        return try await step { tx in
            guard try await tx.deleteTimer(alertID: timer.alertID, kind: timer.kind, dueBy: now) else {
                return Transition(alert: nil, outcome: .ignored("timer \(timer.kind.rawValue) of \(timer.alertID) is no longer due"))
            }
            return try await Self.apply(.timerFired(timer.kind), to: timer.alertID, now: now, in: tx)
        }
    }

    /// A manual alert (from `/sentry block-ip`) and its containment request, in one transaction. When another live
    /// containment holds the target, nothing is written: the outcome says why, for the caller to answer with.
    public func createManual(
        _ detection: Detection, playbook: Playbook, channel: String, newAlertID: String, request: ContainmentRequest, now: Date
    ) async throws -> Transition {
        try await step { tx in
            let live = try await tx.liveContainments(kind: request.kind, target: request.target)
            if let reason = ContainmentConflict.reason(for: request, live: live) {
                return Transition(alert: nil, outcome: .ignored(reason))
            }
            let created = AlertMachine.handle(nil, .detectionReceived(detection, playbook: playbook, channel: channel), alertID: newAlertID, now: now)
            guard var alert = created.alert else { return created }
            alert.manual = true
            let transition = Transition(alert: alert, outcome: .applied, effects: created.effects, audit: created.audit)
            try await tx.write(TransitionRecord(transition, alertID: newAlertID, revision: nil), now: now)
            return try await Self.apply(.containmentRequested(request), to: newAlertID, now: now, in: tx)
        }
    }

    /// One transaction for a batch of collected events: which ids are new, what the rules counted and fired,
    /// and the alerts their detections create or grow. A crash before it commits leaves everything to be
    /// redone; after, nothing is redone. `followUps` are events for the alert a detection lands in (by
    /// detection id), applied in the same transaction.
    public func commitRuleBatch(
        eventIDs: [(source: String, id: String)], counted: [(String, String, Double)], fired: [String],
        detections: [(Detection, Playbook, String, String)], followUps: [String: AlertEvent] = [:], now: Date
    ) async throws -> [IngestResult] {
        let bySource = Dictionary(grouping: eventIDs, by: \.source).mapValues { $0.map(\.id) }
        let batch = RuleBatch(
            events: bySource, counted: counted.map { RuleCount(rule: $0.0, key: $0.1, at: $0.2) }, fired: fired,
            detections: detections.map { BatchDetection(detection: $0.0, playbook: $0.1, channel: $0.2, alertID: $0.3) })
        return try await step { tx in
            for (source, ids) in batch.events.sorted(by: { $0.key < $1.key }) { try await tx.recordEvents(source: source, ids: ids, now: now) }
            for count in batch.counted { try await tx.countRuleEvent(rule: count.rule, key: count.key, at: count.at) }
            for key in batch.fired { try await tx.recordRuleFired(key) }
            var results: [IngestResult] = []
            for item in batch.detections {
                let result = try await Self.ingest(
                    item.detection, playbook: item.playbook, channel: item.channel, newAlertID: item.alertID, now: now, in: tx)
                results.append(result)
                if result.status != .duplicate, let event = followUps[item.detection.id] {
                    _ = try await Self.apply(event, to: result.alertID, now: now, in: tx)
                }
            }
            return results
        }
    }

    /// Enqueues an effect not tied to an alert (answers to app mentions); false when the key was seen before.
    @discardableResult
    public func enqueue(_ effect: AlertEffect, idempotencyKey: String, now: Date) async throws -> Bool {
        try await step { tx in try await tx.enqueue(.unattached(effect, idempotencyKey: idempotencyKey), now: now) }
    }

    /// An audit entry that belongs to no alert (a refused slash command).
    public func recordAudit(_ record: AuditRecord, now: Date) async throws {
        try await step { tx in try await tx.appendAudit(record, alertID: nil, now: now) }
    }

    // MARK: Effects

    /// Leases due effects to a runner (see `AlertStore.claimEffects`).
    public func claimEffects(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws -> [OutboxEntry] {
        try await store.claimEffects(owner: owner, now: now, lease: lease, limit: limit)
    }

    /// Counts an attempt before a non-idempotent effect runs; returns how many attempts came before it. Throws
    /// `StoreError.leaseLost` when the runner no longer holds the effect: it must not run it.
    public func beginAttempt(_ claim: EffectClaim) async throws -> Int { try await store.beginAttempt(claim) }

    public func completeEffect(_ claim: EffectClaim, now: Date) async throws {
        if !(try await store.completeEffects([claim.id], owner: claim.owner, now: now)).isEmpty { throw StoreError.leaseLost(effectID: claim.id) }
    }

    /// Marks done those the owner still holds; returns the ids it had lost.
    @discardableResult
    public func completeEffects(_ ids: [Int64], owner: String, now: Date) async throws -> Set<Int64> {
        try await store.completeEffects(ids, owner: owner, now: now)
    }

    /// Schedules another try (see `AlertStore.retryEffect` for `attemptDelta`).
    public func retryEffect(_ claim: EffectClaim, error: String, at: Date, attemptDelta: Int) async throws {
        try await store.retryEffect(claim, error: error, at: at, attemptDelta: attemptDelta)
    }

    /// Schedules another try; `countAttempt` is false when `beginAttempt` already counted this one.
    public func retryEffect(_ claim: EffectClaim, error: String, at: Date, countAttempt: Bool) async throws {
        try await store.retryEffect(claim, error: error, at: at, attemptDelta: countAttempt ? 1 : 0)
    }

    public func releaseCoalesceKey(_ id: Int64) async throws { try await store.releaseCoalesceKey(id) }

    /// An effect that will not be tried again, and what its failure means for its alert (`events`, applied in
    /// order), in one transaction: the outbox never says "failed" while the alert still says "posting".
    @discardableResult
    public func giveUp(_ claim: EffectClaim, error: String, alertID: String?, events: [AlertEvent], now: Date) async throws -> [Transition] {
        try await step { tx in
            try await tx.finishEffect(claim.id, .failed, error: error, owner: claim.owner, now: now)
            guard let alertID else { return [] }
            var transitions: [Transition] = []
            for event in events { transitions.append(try await Self.apply(event, to: alertID, now: now, in: tx)) }
            return transitions
        }
    }

    public func failEffect(_ claim: EffectClaim, error: String, now: Date) async throws {
        try await giveUp(claim, error: error, alertID: nil, events: [], now: now)
    }

    public func purge(doneBefore: Date, detectionsBefore: Date) async throws -> Int {
        try await store.purge(doneBefore: doneBefore, detectionsBefore: detectionsBefore)
    }

    // MARK: Steps

    /// Runs one step in a transaction, deciding it again from fresh reads when another writer got there first.
    func step<T: Sendable>(_ body: @escaping @Sendable (any AlertTransaction) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await store.transaction(body)
            } catch StoreError.revisionConflict where attempt < conflictRetries {
                attempt += 1
            }
        }
    }

    static func ingest(
        _ detection: Detection, playbook: Playbook, channel: String, newAlertID: String, now: Date, in tx: any AlertTransaction
    ) async throws -> IngestResult {
        if let existing = try await tx.alertID(forDetection: detection.id) {
            return IngestResult(alertID: existing, status: .duplicate, transition: nil)
        }
        let key = Alert.groupKey(detection: detection.detection, subject: detection.subject)
        let candidates = try await tx.groupCandidates(groupKey: key)
        let result: IngestResult
        if let target = AlertGrouping.target(for: detection, among: candidates.map(\.alert), now: now),
            let stored = candidates.first(where: { $0.alert.id == target.id })
        {
            let transition = AlertMachine.handle(stored.alert, .detectionGrouped(detection), alertID: stored.alert.id, now: now)
            try await tx.write(TransitionRecord(transition, alertID: stored.alert.id, revision: stored.revision), now: now)
            result = IngestResult(alertID: stored.alert.id, status: .grouped, transition: transition)
        } else {
            let transition = AlertMachine.handle(
                nil, .detectionReceived(detection, playbook: playbook, channel: channel), alertID: newAlertID, now: now)
            try await tx.write(TransitionRecord(transition, alertID: newAlertID, revision: nil), now: now)
            result = IngestResult(alertID: newAlertID, status: .created, transition: transition)
        }
        try await tx.recordDetection(detection.id, alertID: result.alertID, now: now)
        return result
    }

    static func apply(_ event: AlertEvent, to alertID: String, now: Date, in tx: any AlertTransaction) async throws -> Transition {
        let stored = try await tx.alert(id: alertID)
        if case .containmentRequested(let request) = event, let alert = stored?.alert {
            let live = try await tx.liveContainments(kind: request.kind, target: request.target)
            if let reason = ContainmentConflict.reason(for: request, live: live) {
                let refusal = ContainmentConflict.refusal(request, on: alert, reason: reason)
                try await tx.write(TransitionRecord(refusal, alertID: alertID, revision: stored?.revision), now: now)
                return refusal
            }
        }
        let transition = AlertMachine.handle(stored?.alert, event, alertID: alertID, now: now)
        try await tx.write(TransitionRecord(transition, alertID: alertID, revision: stored?.revision), now: now)
        return transition
    }
}

/// A collector batch, in plain values the transaction closure can carry.
struct RuleBatch: Sendable {
    var events: [String: [String]]
    var counted: [RuleCount]
    var fired: [String]
    var detections: [BatchDetection]
}

struct RuleCount: Sendable {
    var rule: String
    var key: String
    var at: Double
}

struct BatchDetection: Sendable {
    var detection: Detection
    var playbook: Playbook
    var channel: String
    var alertID: String
}
