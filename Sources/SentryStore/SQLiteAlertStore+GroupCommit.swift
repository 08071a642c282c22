import Foundation
import GRDB
import SentryCore

/// Group commit: the steps that arrive while a transaction is running wait for it, then run together in the next
/// one, each in a savepoint of its own. A step that throws undoes only its own writes, and each caller is answered
/// only after the COMMIT that made its step durable. When the batch cannot commit, every step in it is run again
/// alone, in a transaction of its own, so a bad batch fails only the steps that fail alone.
///
/// The first caller of an idle queue runs the first batch on its own task (a lone step costs no hop to another
/// task). If steps arrived meanwhile, it starts a writer task, which takes batch after batch for as long as steps
/// keep arriving and ends when none waits. Handing each next batch to a waiting caller instead left the writer
/// idle until that caller's task was scheduled again, behind the answers of the batch just committed (a fifth of
/// both cores sat idle under 32 concurrent webhooks). Each batch takes the store's `gate`, so whoever else waits
/// for the writer gets it between two batches.
public final class CommitQueue: Sendable {
    /// The batch limit of a store opened without one.
    public static let defaultLimit = 64

    /// The most steps one transaction carries (a longer batch holds its first callers' answers back).
    let limit: Int

    private struct State {
        var waiting: [CommitJob] = []
        var leading = false
    }

    private let state = Locked(State())

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Queues `job`; true when the queue was idle, so the caller must run the first batch.
    func enqueue(_ job: CommitJob) -> Bool {
        state.withLock { state in
            state.waiting.append(job)
            if state.leading { return false }
            state.leading = true
            return true
        }
    }

    /// After the first batch: true when steps wait (the caller starts a writer task); else the queue is idle.
    func continuesAfterFirstBatch() -> Bool {
        state.withLock { state in
            if state.waiting.isEmpty { state.leading = false }
            return state.leading
        }
    }

    /// Steps queued and not yet taken into a batch.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// The writer's next batch, the oldest waiting steps; empty when none waits, and the queue is then idle (the
    /// next step starts a new writer task).
    func takeBatch() -> [CommitJob] {
        state.withLock { state in
            guard !state.waiting.isEmpty else {
                state.leading = false
                return []
            }
            let count = min(limit, state.waiting.count)
            let batch = Array(state.waiting.prefix(count))
            state.waiting.removeFirst(count)
            return batch
        }
    }
}

/// One caller's step in the commit queue, and how it ended.
final class CommitJob: @unchecked Sendable {
    let body: @Sendable (any AlertTransaction) async throws -> any Sendable
    /// Written by the writer task that ran the step, before it signals (the signal's lock orders the two).
    var outcome: Result<any Sendable, any Error>?
    private let turn = Locked<(signalled: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    init(_ body: @escaping @Sendable (any AlertTransaction) async throws -> any Sendable) {
        self.body = body
    }

    /// Waits until the step's batch has ended: `outcome` is then final.
    func wait() async {
        await withCheckedContinuation { continuation in
            let ready = turn.withLock { state -> Bool in
                if state.signalled { return true }
                state.waiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    func signal() {
        let waiter = turn.withLock { state -> CheckedContinuation<Void, Never>? in
            state.signalled = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func value<T>(_ type: T.Type) throws -> T {
        switch outcome {
        case .success(let value)?: return value as! T
        case .failure(let error)?: throw error
        case nil: preconditionFailure("a commit job was answered before it ran")
        }
    }
}

/// Alerts decoded or written by the committed-so-far steps of a batch: the next step of the same batch finds them
/// without decoding, and the store's cache learns them only once the batch has committed.
final class BatchAlerts: @unchecked Sendable {
    private(set) var entries: [String: (revision: Int64, alert: Alert)] = [:]
    /// The audit chain's last entry after the committed-so-far steps, when one of them appended.
    private(set) var auditTail: AuditEntry?

    func get(_ id: String, revision: Int64) -> Alert? {
        guard let entry = entries[id], entry.revision == revision else { return nil }
        return entry.alert
    }

    /// What a step that succeeded wrote: its alerts and its last audit entry.
    func keep(_ step: SQLiteTransaction) {
        for entry in step.written { entries[entry.id] = (entry.revision, entry.alert) }
        if let last = step.auditTail { auditTail = last }
    }
}

extension SQLiteAlertStore {
    /// `transaction` through the commit queue.
    func grouped<T: Sendable>(_ body: @escaping @Sendable (any AlertTransaction) async throws -> T) async throws -> T {
        let job = CommitJob { transaction in try await body(transaction) }
        guard commits.enqueue(job) else {
            await job.wait()
            return try job.value(T.self)
        }
        // The engine's steps never look at cancellation: a batch runs to its end whoever of its callers went away.
        await writeBatch()
        if commits.continuesAfterFirstBatch() { Task.detached { while await self.writeBatch() {} } }
        return try job.value(T.self)
    }

    /// The oldest waiting steps as one batch, and their callers answered; false when none waited (the queue is
    /// then idle).
    @discardableResult
    private func writeBatch() async -> Bool {
        await gate.lock()
        let batch = commits.takeBatch()
        if !batch.isEmpty { await run(batch) }
        gate.unlock()
        for job in batch { job.signal() }
        return !batch.isEmpty
    }

    private func run(_ batch: [CommitJob]) async {
        guard batch.count > 1 else {
            for job in batch { job.outcome = await alone(job) }
            return
        }
        let staged = BatchAlerts()
        var intact = succeeds { db in try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute() }
        for job in batch where intact {
            let transaction = SQLiteTransaction(store: self, batch: staged)
            do {
                try onWriter { db in try db.cachedStatement(sql: "SAVEPOINT step").execute() }
                let value = try await job.body(transaction)
                try onWriter { db in try db.cachedStatement(sql: "RELEASE SAVEPOINT step").execute() }
                job.outcome = .success(value)
                staged.keep(transaction)
            } catch {
                job.outcome = .failure(error)
                // Its own writes undone; when even that fails, the transaction is in no known state.
                intact = succeeds { db in
                    try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT step").execute()
                    try db.cachedStatement(sql: "RELEASE SAVEPOINT step").execute()
                }
            }
        }
        if intact, succeeds({ db in try db.cachedStatement(sql: "COMMIT").execute() }) {
            remember(staged.entries.map { ($0.key, $0.value.revision, $0.value.alert) }, auditTail: staged.auditTail)
            return
        }
        try? onWriter { db in
            if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") }
        }
        // Nothing of the batch was kept, so every step is decided again, alone: one that failed in the batch may
        // have failed on what an earlier step wrote and the rollback took away.
        for job in batch { job.outcome = await alone(job) }
    }

    /// After a COMMIT: the alerts it wrote are decoded as committed, and its last audit entry is the chain's tail.
    private func remember(_ written: [(id: String, revision: Int64, alert: Alert)], auditTail last: AuditEntry?) {
        for entry in written { decoded.put(entry.id, revision: entry.revision, alert: entry.alert) }
        if let last { auditTail.withLock { $0 = last } }
    }

    private func succeeds(_ statements: (Database) throws -> Void) -> Bool {
        do {
            try onWriter(statements)
            return true
        } catch {
            return false
        }
    }

    /// One step in a transaction of its own.
    private func alone(_ job: CommitJob) async -> Result<any Sendable, any Error> {
        let transaction = SQLiteTransaction(store: self, batch: nil)
        do {
            try onWriter { db in try db.cachedStatement(sql: "BEGIN IMMEDIATE").execute() }
            let value = try await job.body(transaction)
            try onWriter { db in try db.cachedStatement(sql: "COMMIT").execute() }
            remember(transaction.written, auditTail: transaction.auditTail)
            return .success(value)
        } catch {
            try? onWriter { db in
                if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") }
            }
            return .failure(error)
        }
    }
}
