import Foundation
import SentryEngine
import SentryPostgres
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryCore

private typealias F = CoreFixtures
private typealias Fixture = StoreCopyFixture

/// `sentry db copy` below the command line: each store exports and imports its own rows (StoreSnapshotting),
/// and a copy reads back through the store API exactly as the source does.
@Suite struct StoreCopyTests {
    /// The tables SQLite keeps, each with its columns, are exactly the ones a snapshot carries: a table or a
    /// column added by a migration fails here until the copy carries it (or says why it need not).
    @Test func everySQLiteTableAndColumnIsCopied() async throws {
        let schema = try await SQLiteAlertStore.inMemory().schemaTables()
        let leftTables = Set(StoreSnapshot.notCopied.keys.filter { !$0.contains(".") })
        #expect(Set(schema.keys) == Set(StoreSnapshot.Table.allCases.map(\.rawValue)).union(leftTables))
        #expect(Set(StoreSnapshot.Table.allCases.map(\.rawValue)).isDisjoint(with: leftTables))
        for table in StoreSnapshot.Table.allCases {
            let left = StoreSnapshot.notCopied.keys.filter { $0.hasPrefix(table.rawValue + ".") }.map {
                String($0.dropFirst(table.rawValue.count + 1))
            }
            #expect(schema[table.rawValue]?.filter { !left.contains($0) } == table.columns, "\(table.rawValue)")
            #expect(Set(left).isSubset(of: schema[table.rawValue] ?? []), "\(table.rawValue): \(left)")
        }
    }

    /// What the copy writes exists in PostgreSQL's schema; what PostgreSQL keeps beyond it is derived there
    /// (the schema version, the chain's head row, insertion order, claim leases).
    @Test(.enabled(if: PostgresTestDatabase.included)) func everyCopiedColumnExistsInPostgres() async throws {
        let schema = try await PostgresTestDatabase.store().schemaTables()
        for table in StoreSnapshot.Table.allCases {
            let columns = try #require(schema[table.rawValue], "\(table.rawValue)")
            #expect(Set(table.columns).isSubset(of: columns), "\(table.rawValue): \(columns)")
        }
    }

    @Test(arguments: targets) func aPopulatedSQLiteReadsBackEqualFromTheCopy(_ kind: StoreKind) async throws {
        let source = try SQLiteAlertStore.inMemory()
        try await Fixture.populate(source)
        let target = try await Self.target(kind)
        let result = try await StoreCopy.run(from: source, to: target, replacing: false)

        let snapshot = try await source.exportSnapshot()
        #expect(result.counts == snapshot.counts)
        #expect(result.verdict == .intact(entries: snapshot.audit.count))
        #expect(snapshot.counts.values.allSatisfy { $0 > 0 }, "the fixture leaves a table empty: \(snapshot.counts)")
        #expect(try await target.exportSnapshot() == snapshot)
        let view = try await Fixture.view(source)
        #expect(try await Fixture.view(target) == view)
        // The fixture covers what it says it does.
        #expect(view.alerts.compactMap { $0?.status } == [.open, .acknowledged, .resolved, .open])
        #expect(view.alerts[0]?.snooze != nil && view.alerts[0]?.message?.ts == "1790000000.000100")
        #expect(view.live.map(\.status) == ["active"])
        #expect(Set(view.outbox.map(\.state)) == ["done", "pending"])
        #expect(view.outbox.contains { $0.alertID == nil } && view.outbox.contains { $0.lastError == "rate limited" })
        #expect(Set(view.timers.map(\.kind)) == [.ackTimeout, .snoozeExpiry, .containmentExpiry("C-1")])

        // Copied items are nobody's: the target's runner claims every due head at once, while on the source the
        // heads its runner leased stay out of reach until their leases run out.
        let heads = Set(try await source.dueEffects(now: Fixture.at(13), limit: 100).map(\.id))
        let fromSource = Set(try await source.claimEffects(owner: "other", now: Fixture.at(13), lease: 30, limit: 100).map(\.id))
        let fromTarget = Set(try await target.claimEffects(owner: "target-runner", now: Fixture.at(13), lease: 30, limit: 100).map(\.id))
        #expect(heads.count > 1 && fromTarget == heads)
        #expect(fromSource.count < heads.count)

        // The copy carries on: the next audit entry links to the copied head, the next item gets a new id.
        let engine = AlertEngine(store: target)
        try await engine.apply(.clicked(Click(action: .ack, userID: F.alice, mayAct: true, responseURL: nil)), to: "A1", now: Fixture.at(100))
        let audit = try await target.auditEntries(after: 0, limit: 1_000)
        #expect(audit.count == snapshot.audit.count + 1)
        #expect(AuditChain.verify(audit) == .intact(entries: audit.count))
        let maxCopied = snapshot.outbox.map(\.id).max() ?? 0
        #expect(try await target.outbox(alertID: "A1").contains { $0.id > maxCopied })
    }

    @Test(arguments: targets) func aNonEmptyTargetIsRefusedUnlessReplacing(_ kind: StoreKind) async throws {
        let first = try SQLiteAlertStore.inMemory()
        try await Fixture.populate(first)
        let second = try SQLiteAlertStore.inMemory()
        try await Fixture.populate(second, tag: "-other")
        let target = try await Self.target(kind)
        _ = try await StoreCopy.run(from: first, to: target, replacing: false)
        let before = try await target.exportSnapshot()

        await #expect(throws: StoreCopyError.targetNotEmpty(before.counts)) {
            _ = try await StoreCopy.run(from: second, to: target, replacing: false)
        }
        #expect(try await target.exportSnapshot() == before)

        let replaced = try await StoreCopy.run(from: second, to: target, replacing: true)
        #expect(replaced.verdict == .intact(entries: before.audit.count))
        let expected = try await second.exportSnapshot()
        #expect(try await target.exportSnapshot() == expected)
        #expect(try await target.checkpoint("slack-audit") == "cursor--other42")
    }

    @Test(arguments: targets) func aFailureMidwayLeavesTheTargetAsItWas(_ kind: StoreKind) async throws {
        let source = try SQLiteAlertStore.inMemory()
        try await Fixture.populate(source)
        var snapshot = try await source.exportSnapshot()
        // The last table written holds a row twice: everything before it was already inserted when it fails.
        snapshot.ruleFired.append(snapshot.ruleFired[0])
        let target = try await Self.target(kind)
        await #expect(throws: (any Error).self) { try await target.importSnapshot(snapshot, replacing: false) }
        #expect(try await target.rowCounts().values.allSatisfy { $0 == 0 })

        // And a target that held rows still holds them after a failed replacement.
        _ = try await StoreCopy.run(from: source, to: target, replacing: false)
        let held = try await target.exportSnapshot()
        await #expect(throws: (any Error).self) { try await target.importSnapshot(snapshot, replacing: true) }
        #expect(try await target.exportSnapshot() == held)
    }

    @Test(arguments: targets) func aBrokenChainIsNeverCopied(_ kind: StoreKind) async throws {
        let source = try SQLiteAlertStore.inMemory()
        try await Fixture.populate(source)
        var snapshot = try await source.exportSnapshot()
        let target = try await Self.target(kind)
        // A store checks the chain it wrote before committing, whoever handed it the rows.
        snapshot.audit[2].detail = "rewritten"
        await #expect(throws: StoreCopyError.self) { try await target.importSnapshot(snapshot, replacing: false) }
        #expect(try await target.rowCounts().values.allSatisfy { $0 == 0 })
        // And a copy refuses a source whose chain is broken before writing anything.
        try await source.unsafeExecute("UPDATE audit SET actor = 'U0MALLORY' WHERE seq = 2")
        await #expect(throws: StoreCopyError.auditChainBroken(store: "source", verdict: AuditChain.verify(try await source.exportSnapshot().audit))) {
            _ = try await StoreCopy.run(from: source, to: target, replacing: false)
        }
        #expect(try await target.rowCounts().values.allSatisfy { $0 == 0 })
    }

    /// PostgreSQL back to SQLite: the way out is the same copy.
    @Test(.enabled(if: PostgresTestDatabase.included)) func postgresCopiesBackToSQLite() async throws {
        let source = try await PostgresTestDatabase.store()
        try await Fixture.populate(source)
        let target = try SQLiteAlertStore.inMemory()
        let result = try await StoreCopy.run(from: source, to: target, replacing: false)
        #expect(result.verdict == .intact(entries: try await source.auditEntries(after: 0, limit: 1_000).count))
        #expect(try await target.exportSnapshot() == (try await source.exportSnapshot()))
        #expect(try await Fixture.view(target) == (try await Fixture.view(source)))
    }

    // MARK: Targets

    /// The stores a copy can write: SQLite, and PostgreSQL when the test server is there.
    static var targets: [StoreKind] { StoreKind.allCases.filter { $0 != .memory } }

    static func target(_ kind: StoreKind) async throws -> any SentryStorage & StoreSnapshotting {
        switch kind {
        case .sqlite: try SQLiteAlertStore.inMemory()
        case .postgres: try await PostgresTestDatabase.store()
        case .memory: throw CancellationError()
        }
    }
}
