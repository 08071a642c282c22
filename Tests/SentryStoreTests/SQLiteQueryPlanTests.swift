import Foundation
import GRDB
import SentryEngine
import SentryTestSupport
import Testing

@testable import SentryCore
@testable import SentryStore

private typealias F = CoreFixtures

/// Every statement a click, a detection and the runner's polling send finds its rows through an index, so their cost
/// does not grow with a year of history. The statements are the ones the store really runs (traced), each explained.
/// (The audit chain's tail is read as `max(seq)`, which SQLite plans as a search; `ORDER BY seq DESC LIMIT 1`
/// costs the same but is planned as a scan.)
@Suite struct SQLiteQueryPlanTests {
    @Test func theRequestPathsSearchAnIndexAndScanNoTable() async throws {
        let store = try SQLiteAlertStore.inMemory()
        let engine = AlertEngine(store: store)
        let book = F.playbook(actions: [ContainmentAction(kind: .blockIP, approvals: 0, ttl: 3_600)])
        _ = try await engine.ingest(F.detection(id: "d0"), playbook: book, channel: F.channel, newAlertID: "A0", now: F.t0)
        try await engine.apply(
            .clicked(Click(action: .resolve, userID: F.alice, mayAct: true, responseURL: nil)), to: "A0", now: F.t0.addingTimeInterval(60))
        let key = try #require(try await store.alert(id: "A0")).groupKey
        try await store.seedHistory(like: "A0", alerts: 2_000, groupKeys: [key, "other|key"], days: 300, auditEntries: 20_000)

        let statements = Locked([String]())
        try await store.db.writeWithoutTransaction { db in
            db.trace(options: .statement) { event in statements.withLock { $0.append(event.expandedDescription) } }
        }
        let later = F.t0.addingTimeInterval(3_600 * 24)
        _ = try await engine.ingest(F.detection(id: "d1"), playbook: book, channel: F.channel, newAlertID: "A1", now: later)
        _ = try await engine.ingest(F.detection(id: "d2"), playbook: book, channel: F.channel, newAlertID: "A2", now: later.addingTimeInterval(1))
        _ = try await engine.ingest(F.detection(id: "d2"), playbook: book, channel: F.channel, newAlertID: "A3", now: later.addingTimeInterval(2))
        try await engine.apply(
            .clicked(Click(action: .ack, userID: F.alice, mayAct: true, responseURL: "http://127.0.0.1:9/r")), to: "A1",
            now: later.addingTimeInterval(3))
        try await engine.apply(
            .clicked(Click(action: .ack, userID: F.bob, mayAct: true, responseURL: "http://127.0.0.1:9/r")), to: "A1",
            now: later.addingTimeInterval(4))
        let claimed = try await store.claimEffects(owner: "test", now: later.addingTimeInterval(5), lease: 30, limit: 16)
        #expect(!claimed.isEmpty)
        _ = try await store.dueTimers(now: later.addingTimeInterval(5), limit: 16)
        try await store.db.writeWithoutTransaction { db in db.trace(options: .statement, nil) }

        let bigTables: Set<String> = ["alert", "audit", "outbox", "timer", "detection_seen", "containment", "event_seen"]
        var explained = 0
        for sql in Set(statements.withLock { $0 }) {
            let head = sql.prefix(while: { $0 != " " }).uppercased()
            guard ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH"].contains(head) else { continue }
            let details = try await store.db.read { db in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String } }
            explained += 1
            // Grouping reads only live alerts: not the finished ones of the same key (a year of them, on a noisy subject).
            if sql.contains("group_key = ") && sql.contains("status IN ('open', 'acknowledged')") {
                #expect(details.contains { $0.contains("alert_live_by_group") }, "\(sql)\n  \(details)")
            }
            for detail in details {
                let words = detail.split(separator: " ")
                if words.first == "SCAN", words.count > 1, bigTables.contains(String(words[1])) {
                    Issue.record("\(sql)\n  scans: \(detail)")
                }
            }
        }
        #expect(explained >= 10)
    }
}
