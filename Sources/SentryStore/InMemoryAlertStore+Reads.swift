import Foundation
import SentryCore

extension InMemoryAlertStore {
    // MARK: Alerts

    public func alert(id: String) async throws -> Alert? { read { $0.alerts[id]?.alert } }

    public func alerts(statuses: [AlertStatus], limit: Int) async throws -> [Alert] {
        read { tables in
            Array(
                tables.alerts.values.filter { statuses.contains($0.alert.status) }
                    .sorted { ($0.alert.createdAt, $0.order) > ($1.alert.createdAt, $1.order) }
                    .prefix(limit).map(\.alert))
        }
    }

    public func alertCount(createdSince since: Date) async throws -> Int {
        read { $0.alerts.values.filter { $0.alert.createdAt >= since }.count }
    }

    public func alertCount(statuses: [AlertStatus]) async throws -> Int {
        read { $0.alerts.values.filter { statuses.contains($0.alert.status) }.count }
    }

    public func alertsHoldingActiveContainments(limit: Int) async throws -> [Alert] {
        read { tables in
            let holding = Set(tables.containments.values.filter { $0.status == .active }.map(\.alertID))
            return Array(
                tables.alerts.values.filter { holding.contains($0.alert.id) }
                    .sorted { ($0.alert.createdAt, $0.order) > ($1.alert.createdAt, $1.order) }
                    .prefix(limit).map(\.alert))
        }
    }

    public func alerts(withTimer kind: TimerKind, limit: Int) async throws -> [Alert] {
        read { tables in
            let timers = tables.timers.values.filter { $0.kind == kind }.sorted { ($0.dueAt, $0.alertID) < ($1.dueAt, $1.alertID) }
            return Array(timers.compactMap { tables.alerts[$0.alertID]?.alert }.prefix(limit))
        }
    }

    public func statsRows(createdFrom from: Date, to: Date) async throws -> [AlertStatsRow] {
        read { state in
            state.alerts.values.map(\.alert).filter { $0.createdAt >= from && $0.createdAt < to }.sorted {
                ($0.createdAt, $0.id) < ($1.createdAt, $1.id)
            }
            .map(AlertStatsRow.init)
        }
    }

    public func playbookID(ofAlert id: String) async throws -> String? { read { $0.alerts[id]?.alert.playbookID } }

    public func activeContainmentCount() async throws -> Int { read { $0.containments.values.filter { $0.status == .active }.count } }

    public func alertID(forContainment id: String) async throws -> String? { read { $0.containments[id]?.alertID } }

    public func liveContainments(kind: ContainmentAction.Kind, target: String) async throws -> [LiveContainment] {
        read { Self.live(kind: kind, target: target, in: $0) }
    }

    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        read { Array($0.audit.filter { $0.seq > seq }.prefix(limit)) }
    }

    public func gauges() async throws -> StoreGauges {
        read { tables in
            var gauges = StoreGauges()
            for row in tables.alerts.values { gauges.alertsByStatus[row.alert.status, default: 0] += 1 }
            for row in tables.containments.values { gauges.containments[row.kind, default: [:]][row.status, default: 0] += 1 }
            gauges.outboxPending = tables.outbox.filter { $0.state == "pending" }.count
            gauges.outboxFailed = tables.outbox.filter { $0.state == "failed" }.count
            return gauges
        }
    }

    public func ping() async throws {}

    // MARK: Outbox

    public func dueEffects(now: Date, limit: Int) async throws -> [OutboxEntry] {
        read { tables in Self.laneHeads(in: tables, now: now, limit: limit, claimant: nil).map { Self.entry(tables.outbox[$0]) } }
    }

    public func claimEffects(owner: String, now: Date, lease: TimeInterval, limit: Int) async throws -> [OutboxEntry] {
        try await exclusive { tables in
            Self.laneHeads(in: tables, now: now, limit: limit, claimant: owner).map { index in
                tables.outbox[index].leasedBy = owner
                tables.outbox[index].leasedUntil = now.addingTimeInterval(lease)
                return Self.entry(tables.outbox[index])
            }
        }
    }

    /// Indexes of the due heads of lanes (a pending ordered row, leased or not, holds back its alert's later ones);
    /// with a claimant, those no other runner's live lease holds.
    static func laneHeads(in tables: Tables, now: Date, limit: Int, claimant: String?) -> [Int] {
        var blocked: Set<String> = []
        var due: [Int] = []
        for (index, row) in tables.outbox.enumerated() where row.state == "pending" {
            let alertID = row.item.alertID
            let laneIsFree = !row.item.ordered || alertID.map { !blocked.contains($0) } ?? true
            if row.item.ordered, let alertID { blocked.insert(alertID) }
            guard laneIsFree, row.nextAttemptAt <= now else { continue }
            if let claimant, let until = row.leasedUntil, until > now, row.leasedBy != claimant { continue }
            due.append(index)
            if due.count == limit { break }
        }
        return due
    }

    public func renewLeases(_ ids: [Int64], owner: String, until: Date) async throws -> Set<Int64> {
        try await exclusive { tables in
            var held: Set<Int64> = []
            for index in tables.outbox.indices
            where ids.contains(tables.outbox[index].id) && tables.outbox[index].state == "pending" && tables.outbox[index].leasedBy == owner {
                tables.outbox[index].leasedUntil = until
                held.insert(tables.outbox[index].id)
            }
            return held
        }
    }

    public func releaseLeases() async throws {
        try await exclusive { tables in
            for index in tables.outbox.indices {
                tables.outbox[index].leasedBy = nil
                tables.outbox[index].leasedUntil = nil
            }
        }
    }

    /// One process holds memory.
    public var isShared: Bool { false }

    public func beginAttempt(_ claim: EffectClaim) async throws -> Int {
        try await exclusive { tables in
            guard let index = Self.held(claim, in: tables) else { throw StoreError.leaseLost(effectID: claim.id) }
            tables.outbox[index].attempts += 1
            return tables.outbox[index].attempts - 1
        }
    }

    @discardableResult
    public func completeEffects(_ ids: [Int64], owner: String, now: Date) async throws -> Set<Int64> {
        try await exclusive { tables in
            var lost: Set<Int64> = []
            for id in ids where !Self.finish(id, .done, error: nil, owner: owner, now: now, in: &tables) { lost.insert(id) }
            return lost
        }
    }

    public func retryEffect(_ claim: EffectClaim, error: String, at: Date, attemptDelta: Int) async throws {
        try await exclusive { tables in
            guard let index = Self.held(claim, in: tables) else { throw StoreError.leaseLost(effectID: claim.id) }
            tables.outbox[index].attempts = max(0, tables.outbox[index].attempts + attemptDelta)
            tables.outbox[index].lastError = error
            tables.outbox[index].nextAttemptAt = at
            tables.outbox[index].leasedBy = nil
            tables.outbox[index].leasedUntil = nil
        }
    }

    /// The row of a pending effect its claim's owner still holds.
    static func held(_ claim: EffectClaim, in tables: Tables) -> Int? {
        tables.outbox.firstIndex { $0.id == claim.id && $0.state == "pending" && $0.leasedBy == claim.owner }
    }

    public func hasPendingPost(alertID: String) async throws -> Bool {
        read { $0.outbox.contains { $0.state == "pending" && $0.item.alertID == alertID && $0.item.effect == .postAlert } }
    }

    public func releaseCoalesceKey(_ id: Int64) async throws {
        try await exclusive { tables in
            if let index = tables.outbox.firstIndex(where: { $0.id == id }) { tables.outbox[index].item.coalesceKey = nil }
        }
    }

    public func purge(doneBefore: Date, detectionsBefore: Date) async throws -> Int {
        try await exclusive { tables in
            let outbox = tables.outbox.count
            tables.outbox.removeAll { $0.state == "done" && ($0.finishedAt ?? .distantFuture) < doneBefore }
            let detections = tables.detections.count
            tables.detections = tables.detections.filter { $0.value.at >= detectionsBefore }
            let millis = Int64(detectionsBefore.timeIntervalSince1970 * 1000)
            tables.ruleWindow = tables.ruleWindow.filter { $0.key.millis >= millis }
            tables.eventsSeen = tables.eventsSeen.filter { $0.value >= detectionsBefore }
            return (outbox - tables.outbox.count) + (detections - tables.detections.count)
        }
    }

    public func outbox(alertID: String?) async throws -> [OutboxEntry] {
        read { tables in tables.outbox.filter { alertID == nil || $0.item.alertID == alertID }.map(Self.entry) }
    }

    static func entry(_ row: Tables.OutboxRow) -> OutboxEntry {
        OutboxEntry(
            id: row.id, alertID: row.item.alertID, effect: row.item.effect, attempts: row.attempts, idempotencyKey: row.item.idempotencyKey,
            state: row.state, lastError: row.lastError)
    }

    // MARK: Timers

    public func dueTimers(now: Date, limit: Int) async throws -> [DueTimer] {
        read { Array($0.timers.values.filter { $0.dueAt <= now }.sorted { ($0.dueAt, $0.alertID) < ($1.dueAt, $1.alertID) }.prefix(limit)) }
    }

    public func timers(alertID: String) async throws -> [DueTimer] {
        read { $0.timers.values.filter { $0.alertID == alertID }.sorted { $0.kind.rawValue < $1.kind.rawValue } }
    }

    public func nextTimerDue() async throws -> Date? { read { $0.timers.values.map(\.dueAt).min() } }

    // MARK: Containment journal

    public func remember(containmentID: String, key: String, value: String) async throws -> String {
        try await exclusive { tables in
            if let saved = tables.journal[containmentID]?[key] { return saved }
            tables.journal[containmentID, default: [:]][key] = value
            return value
        }
    }

    public func recall(containmentID: String) async throws -> [String: String] { read { $0.journal[containmentID] ?? [:] } }

    // MARK: Collectors

    public func checkpoint(_ name: String) async throws -> String? { read { $0.checkpoints[name] } }

    public func setCheckpoint(_ name: String, _ value: String, now: Date) async throws {
        try await exclusive { $0.checkpoints[name] = value }
    }

    public func firstSeen(source: String, ids: [String], now: Date) async throws -> Set<String> {
        try await exclusive { tables in
            var fresh: Set<String> = []
            for id in ids where tables.eventsSeen[Self.eventKey(source, id)] == nil {
                tables.eventsSeen[Self.eventKey(source, id)] = now
                fresh.insert(id)
            }
            return fresh
        }
    }

    public func unseen(source: String, ids: [String]) async throws -> Set<String> {
        read { tables in Set(ids.filter { tables.eventsSeen[Self.eventKey(source, $0)] == nil }) }
    }

    public func uplinkSnapshots() async throws -> [String: UplinkSnapshot] { read { $0.uplinks } }

    public func saveUplinkSnapshots(_ snapshots: [UplinkSnapshot], removing gone: [String]) async throws {
        try await exclusive { tables in
            for snapshot in snapshots { tables.uplinks[snapshot.key] = snapshot }
            for key in gone { tables.uplinks[key] = nil }
        }
    }

    public func ruleState(since: Date) async throws -> RuleEngine.State {
        read { tables in
            var state = RuleEngine.State()
            let from = Int64(since.timeIntervalSince1970 * 1000)
            for (bucket, count) in tables.ruleWindow.filter({ $0.key.millis >= from }).sorted(by: { $0.key.millis < $1.key.millis }) {
                state.times[bucket.rule + "|" + bucket.key, default: []] += Array(repeating: Double(bucket.millis) / 1000, count: count)
            }
            state.fired = tables.ruleFired
            return state
        }
    }
}
