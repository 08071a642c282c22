import Foundation
import GRDB
import SentryCore

/// Group commit: the steps that arrive while a transaction is running wait for it, then run together in the next
/// one, each in a savepoint of its own. A step that throws undoes only its own writes, and each caller is answered
/// only after the COMMIT that made its step durable. When the batch cannot commit, every step in it is run again
/// alone, in a transaction of its own, so a bad batch fails only the steps that fail alone. The leader runs the
/// other callers' steps on its own task; the engine's steps never look at cancellation, so a leader whose caller
/// went away still finishes the batch.
///
/// Leadership passes from batch to batch: the first caller of an idle queue runs the first batch; when it is done,
/// it hands the next batch to the oldest waiting caller. Nobody else touches the writer meanwhile (`gate`).
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

    /// Queues `job`; true when the caller must lead now (the queue was idle).
    func enqueue(_ job: CommitJob) -> Bool {
        state.withLock { state in
            state.waiting.append(job)
            if state.leading { return false }
            state.leading = true
            return true
        }
    }

    /// Steps queued and not yet taken into a batch.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// The leader's batch: the oldest waiting steps, its own first.
    func takeBatch() -> [CommitJob] {
        state.withLock { state in
            let count = min(limit, state.waiting.count)
            let batch = Array(state.waiting.prefix(count))
            state.waiting.removeFirst(count)
            return batch
        }
    }

    /// After a batch: the next leader, or nil when nobody waits (the queue is idle again).
    func nextLeader() -> CommitJob? {
        state.withLock { state in
            guard let first = state.waiting.first else {
                state.leading = false
                return nil
            }
            return first
        }
    }
}

/// One caller's step in the commit queue, and how it ended.
final class CommitJob: @unchecked Sendable {
    enum Turn: Sendable {
        /// The step ran and its batch ended: `outcome` is final.
        case done
        /// The caller leads the next batch.
        case lead
    }

    let body: @Sendable (any AlertTransaction) async throws -> any Sendable
    /// Written by the leader that ran the step, before it signals `.done` (the signal's lock orders the two).
    var outcome: Result<any Sendable, any Error>?
    private let turn = Locked<(signalled: Turn?, waiter: CheckedContinuation<Turn, Never>?)>((nil, nil))

    init(_ body: @escaping @Sendable (any AlertTransaction) async throws -> any Sendable) {
        self.body = body
    }

    /// Waits for the leader of this step's batch to say it is done, or for this caller's turn to lead.
    func wait() async -> Turn {
        await withCheckedContinuation { continuation in
            let ready = turn.withLock { state -> Turn? in
                if let signalled = state.signalled { return signalled }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    func signal(_ next: Turn) {
        let waiter = turn.withLock { state -> CheckedContinuation<Turn, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.signalled = next
            return nil
        }
        waiter?.resume(returning: next)
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

    func get(_ id: String, revision: Int64) -> Alert? {
        guard let entry = entries[id], entry.revision == revision else { return nil }
        return entry.alert
    }

    func keep(_ written: [(id: String, revision: Int64, alert: Alert)]) {
        for entry in written { entries[entry.id] = (entry.revision, entry.alert) }
    }
}

extension SQLiteAlertStore {
    /// `transaction` through the commit queue.
    func grouped<T: Sendable>(_ body: @escaping @Sendable (any AlertTransaction) async throws -> T) async throws -> T {
        let job = CommitJob { transaction in try await body(transaction) }
        if !commits.enqueue(job), await job.wait() == .done { return try job.value(T.self) }
        await gate.lock()
        let batch = commits.takeBatch()
        await run(batch)
        gate.unlock()
        let next = commits.nextLeader()
        for other in batch where other !== job { other.signal(.done) }
        next?.signal(.lead)
        return try job.value(T.self)
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
                staged.keep(transaction.written)
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
            for (id, entry) in staged.entries { decoded.put(id, revision: entry.revision, alert: entry.alert) }
            return
        }
        try? onWriter { db in
            if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") }
        }
        // Nothing of the batch was kept, so every step is decided again, alone: one that failed in the batch may
        // have failed on what an earlier step wrote and the rollback took away.
        for job in batch { job.outcome = await alone(job) }
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
            for entry in transaction.written { decoded.put(entry.id, revision: entry.revision, alert: entry.alert) }
            return .success(value)
        } catch {
            try? onWriter { db in
                if db.isInsideTransaction { try db.execute(sql: "ROLLBACK") }
            }
            return .failure(error)
        }
    }
}
