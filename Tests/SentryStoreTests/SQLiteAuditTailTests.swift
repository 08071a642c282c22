import Foundation
import SentryCore
import SentryTestSupport
import Testing

@testable import SentryStore

private typealias F = CoreFixtures

/// The store keeps the audit chain's last entry from its last COMMIT instead of reading it back on every append.
/// Another writer of the same file makes that stale; the chain must stay whole and gapless all the same.
@Suite struct SQLiteAuditTailTests {
    private struct Boom: Error {}

    private func append(_ store: SQLiteAlertStore, _ action: String, then fail: Bool = false) async throws {
        try await store.transaction { tx in
            try await tx.appendAudit(AuditRecord(action: action, actor: "test", detail: ""), alertID: nil, now: F.t0)
            if fail { throw Boom() }
        }
    }

    @Test func twoStoresOnOneFileKeepOneChain() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("audit-tail-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("sentry.db").path
        let first = try SQLiteAlertStore(path: path)
        let second = try SQLiteAlertStore(path: path)
        // Each store's remembered tail is stale after every append of the other one.
        for round in 0..<5 {
            try await append(first, "first \(round)")
            try await append(first, "first \(round) again")
            try await append(second, "second \(round)")
        }
        let entries = try await first.auditEntries(after: 0, limit: 100)
        #expect(entries.map(\.seq) == Array(1...15))
        #expect(AuditChain.verify(entries) == .intact(entries: 15))
        #expect(entries.map(\.action).prefix(3) == ["first 0", "first 0 again", "second 0"])
    }

    @Test func aRolledBackAppendIsNotRemembered() async throws {
        let store = try SQLiteAlertStore.inMemory()
        try await append(store, "kept")
        await #expect(throws: Boom.self) { try await append(store, "undone", then: true) }
        try await append(store, "kept again")
        let entries = try await store.auditEntries(after: 0, limit: 100)
        #expect(entries.map(\.action) == ["kept", "kept again"])
        #expect(AuditChain.verify(entries) == .intact(entries: 2))
    }
}
