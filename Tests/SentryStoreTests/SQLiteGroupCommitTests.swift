import Foundation
import GRDB
import SentryEngine
import SentryTestSupport
import Testing

@testable import SentryCore
@testable import SentryStore

private typealias F = CoreFixtures

/// Group commit on SQLite: the transactions that queue up while one runs share the next COMMIT, each in a savepoint
/// of its own. A step that throws loses only its own writes; a batch that cannot commit is decided again one step at
/// a time, so only the step that fails alone fails.
@Suite struct SQLiteGroupCommitTests {
    private struct Boom: Error {}

    /// Counts the COMMITs the database makes.
    private final class Commits: TransactionObserver, @unchecked Sendable {
        private let count = Locked(0)
        var value: Int { count.withLock { $0 } }
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseDidCommit(_ db: Database) { count.withLock { $0 += 1 } }
        func databaseDidRollback(_ db: Database) {}
    }

    /// A store whose first transaction stays open until `release`, so the ones started meanwhile queue up behind it.
    private struct Held {
        let store: SQLiteAlertStore
        let commits = Commits()
        let release: AsyncStream<Void>.Continuation
        let first: Task<Void, any Error>

        init(limit: Int = CommitQueue.defaultLimit) async throws {
            var configuration = Configuration()
            configuration.allowsUnsafeTransactions = true
            store = try SQLiteAlertStore(writer: DatabaseQueue(configuration: configuration), commitBatch: limit)
            store.db.add(transactionObserver: commits, extent: .databaseLifetime)
            let (opened, open) = AsyncStream<Void>.makeStream()
            let (gate, release) = AsyncStream<Void>.makeStream()
            self.release = release
            first = Task { [store] in
                try await store.transaction { tx in
                    try await tx.appendAudit(AuditRecord(action: "first", actor: "test", detail: ""), alertID: nil, now: F.t0)
                    open.yield()
                    for await _ in gate { break }
                }
            }
            for await _ in opened { break }
        }

        /// A table whose foreign key is checked only at COMMIT: a step that writes an orphan (`insertOrphan`) runs,
        /// and the COMMIT that carries it fails, in a batch or alone.
        func deferForeignKeys() async throws {
            try await store.db.writeWithoutTransaction { db in
                try db.execute(
                    sql:
                        "CREATE TABLE parent (id TEXT PRIMARY KEY); CREATE TABLE child (parent TEXT REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
                )
            }
        }

        static func insertOrphan(_ tx: any AlertTransaction) throws {
            try (tx as! SQLiteTransaction).run { db in try db.execute(sql: "INSERT INTO child VALUES ('nobody')") }
        }

        /// Waits until `count` transactions are queued behind the first one.
        func queued(_ count: Int) async {
            while store.commits.waitingCount < count { try? await Task.sleep(for: .milliseconds(1)) }
        }
    }

    private func audit(_ action: String, then fail: Bool = false) -> @Sendable (any AlertTransaction) async throws -> String {
        { tx in
            try await tx.appendAudit(AuditRecord(action: action, actor: "test", detail: ""), alertID: nil, now: F.t0)
            if fail { throw Boom() }
            return action
        }
    }

    private func actions(_ store: SQLiteAlertStore) async throws -> [String] {
        try await store.auditEntries(after: 0, limit: 100).map(\.action)
    }

    @Test func transactionsQueuedBehindOneShareTheNextCommit() async throws {
        let held = try await Held()
        let steps = (1...10).map { n in Task { try await held.store.transaction(audit("step \(n)")) } }
        await held.queued(10)
        held.release.yield()
        try await held.first.value
        for (n, step) in steps.enumerated() { #expect(try await step.value == "step \(n + 1)") }
        // The first alone, then the ten together.
        #expect(held.commits.value == 2)
        let entries = try await held.store.auditEntries(after: 0, limit: 100)
        #expect(entries.count == 11)
        #expect(AuditChain.verify(entries) == .intact(entries: 11))
    }

    @Test func aStepThatThrowsLosesOnlyItsOwnWrites() async throws {
        let held = try await Held()
        let a = Task { try await held.store.transaction(audit("a")) }
        await held.queued(1)
        let b = Task { try await held.store.transaction(audit("b", then: true)) }
        await held.queued(2)
        let c = Task { try await held.store.transaction(audit("c")) }
        await held.queued(3)
        held.release.yield()
        try await held.first.value
        #expect(try await a.value == "a")
        await #expect(throws: Boom.self) { try await b.value }
        #expect(try await c.value == "c")
        #expect(held.commits.value == 2)
        #expect(try await actions(held.store) == ["first", "a", "c"])
        #expect(AuditChain.verify(try await held.store.auditEntries(after: 0, limit: 100)) == .intact(entries: 3))
    }

    @Test func aBatchThatCannotCommitIsDecidedAgainOneStepAtATime() async throws {
        let held = try await Held()
        // A deferred foreign key fails only at COMMIT: the batch's COMMIT, then the COMMIT of the step alone.
        try await held.deferForeignKeys()
        let runs = Locked([String: Int]())
        let counted: @Sendable (String, Bool) -> @Sendable (any AlertTransaction) async throws -> String = { name, orphan in
            { tx in
                runs.withLock { $0[name, default: 0] += 1 }
                try await tx.appendAudit(AuditRecord(action: name, actor: "test", detail: ""), alertID: nil, now: F.t0)
                if orphan { try Held.insertOrphan(tx) }
                return name
            }
        }
        let a = Task { try await held.store.transaction(counted("a", false)) }
        await held.queued(1)
        let b = Task { try await held.store.transaction(counted("b", true)) }
        await held.queued(2)
        let c = Task { try await held.store.transaction(counted("c", false)) }
        await held.queued(3)
        held.release.yield()
        try await held.first.value
        #expect(try await a.value == "a")
        await #expect(throws: DatabaseError.self) { try await b.value }
        #expect(try await c.value == "c")
        // Each ran in the batch, then again alone.
        #expect(runs.withLock { $0 } == ["a": 2, "b": 2, "c": 2])
        #expect(try await actions(held.store) == ["first", "a", "c"])
        #expect(try await held.store.db.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM child") } == 0)
        // The store goes on: the next transaction commits.
        #expect(try await held.store.transaction(audit("after")) == "after")
        #expect(AuditChain.verify(try await held.store.auditEntries(after: 0, limit: 100)) == .intact(entries: 4))
    }

    @Test func aStepThatFailedOnWhatTheRollbackTookAwayIsDecidedAgain() async throws {
        let held = try await Held()
        try await held.deferForeignKeys()
        // A writes "a" and an orphan (its COMMIT, alone or in the batch, fails); B refuses to run after an "a".
        let a = Task {
            try await held.store.transaction { tx in
                try await tx.appendAudit(AuditRecord(action: "a", actor: "test", detail: ""), alertID: nil, now: F.t0)
                try Held.insertOrphan(tx)
                return "a"
            }
        }
        await held.queued(1)
        let b = Task {
            try await held.store.transaction { tx in
                let seen = try (tx as! SQLiteTransaction).run { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM audit WHERE action = 'a'") }
                if seen != 0 { throw Boom() }
                try await tx.appendAudit(AuditRecord(action: "b", actor: "test", detail: ""), alertID: nil, now: F.t0)
                return "b"
            }
        }
        await held.queued(2)
        held.release.yield()
        try await held.first.value
        await #expect(throws: DatabaseError.self) { try await a.value }
        // In the batch B saw A's "a" and refused; the "a" never became durable, so alone B goes ahead.
        #expect(try await b.value == "b")
        #expect(try await actions(held.store) == ["first", "b"])
    }

    @Test func aBatchCarriesNoMoreThanTheLimit() async throws {
        let held = try await Held(limit: 4)
        let steps = (1...10).map { n in Task { try await held.store.transaction(audit("step \(n)")) } }
        await held.queued(10)
        held.release.yield()
        try await held.first.value
        for step in steps { _ = try await step.value }
        // The first alone, then 4 + 4 + 2 (the first caller's batch, then a writer task's two).
        #expect(held.commits.value == 4)
        #expect(try await actions(held.store).count == 11)
        // The writer task ended with the queue idle: the next step leads a batch of its own.
        #expect(try await held.store.transaction(audit("later")) == "later")
        #expect(held.commits.value == 5)
        #expect(held.store.commits.waitingCount == 0)
    }

    @Test func anAlertWrittenByAnEarlierStepIsReadByTheNextOfTheSameBatch() async throws {
        let held = try await Held()
        let engine = AlertEngine(store: held.store)
        let ingest = Task { try await engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0) }
        await held.queued(1)
        let ack = Task {
            try await engine.apply(
                .clicked(Click(action: .ack, userID: F.alice, mayAct: true, responseURL: nil)), to: "A1", now: F.t0.addingTimeInterval(5))
        }
        await held.queued(2)
        let again = Task {
            try await engine.ingest(
                F.detection(id: "d2"), playbook: F.playbook(), channel: F.channel, newAlertID: "A2", now: F.t0.addingTimeInterval(9))
        }
        await held.queued(3)
        held.release.yield()
        try await held.first.value
        #expect(try await ingest.value.status == .created)
        _ = try await ack.value
        #expect(try await again.value.status == .grouped)
        #expect(held.commits.value == 2)
        let alert = try #require(try await held.store.alert(id: "A1"))
        #expect(alert.status == .acknowledged)
        #expect(alert.occurrences == 2)
        #expect(try await held.store.alert(id: "A2") == nil)
    }
}
