import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

private typealias S = StatsFixtures

/// `Retention.mayRemove`: only finished alerts closed before the cutoff, with nothing left that could act.
@Suite struct CoreRetentionTests {
    static let cutoff = S.now.addingTimeInterval(-400 * 86_400)
    static let old = 500.0 * 24

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var alert: Alert
        var pendingEffects = 0
        var timers = 0
        var removable: Bool
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(
            name: "resolved long ago",
            alert: S.alert("A-1", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.1"), hoursAgo: old, ackAfter: 60, resolveAfter: 600),
            removable: true),
        Row(
            name: "dismissed long ago",
            alert: S.alert("A-2", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.1"), hoursAgo: old, resolveAfter: 60, dismiss: true),
            removable: true),
        Row(
            name: "resolved long ago, its blocks rolled back or rejected",
            alert: S.alert(
                "A-3", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.1"), hoursAgo: old, resolveAfter: 600,
                containments: [.released, .rejected]), removable: true),
        Row(
            name: "resolved recently",
            alert: S.alert("A-4", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.1"), hoursAgo: 24, resolveAfter: 600),
            removable: false),
        Row(
            name: "closed just after the cutoff",
            alert: S.alert("A-5", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.1"), hoursAgo: 400 * 24, resolveAfter: 1),
            removable: false),
        Row(
            name: "open for 500 days", alert: S.alert("A-6", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.1"), hoursAgo: old),
            removable: false),
        Row(
            name: "acknowledged for 500 days",
            alert: S.alert("A-7", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.1"), hoursAgo: old, ackAfter: 60), removable: false),
        Row(
            name: "resolved with a block still active",
            alert: S.alert(
                "A-8", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.1"), hoursAgo: old, resolveAfter: 600, containments: [.active]),
            removable: false),
        Row(
            name: "resolved with a failed block (a person must look)",
            alert: S.alert(
                "A-9", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.1"), hoursAgo: old, resolveAfter: 600, containments: [.failed]),
            removable: false),
        Row(
            name: "resolved with an effect still to run",
            alert: S.alert("A-10", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.1"), hoursAgo: old, resolveAfter: 600),
            pendingEffects: 1, removable: false),
        Row(
            name: "resolved with a timer set",
            alert: S.alert("A-11", playbook: "p", detection: "d", subject: Subject(ip: "203.0.113.1"), hoursAgo: old, resolveAfter: 600), timers: 1,
            removable: false),
    ]

    @Test(arguments: rows) func whatRetentionMayRemove(_ row: Row) {
        #expect(Retention.mayRemove(row.alert, closedBefore: Self.cutoff, pendingEffects: row.pendingEffects, timers: row.timers) == row.removable)
    }
}
