import Foundation
import SentryEngine
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryCore

private typealias F = CoreFixtures

/// The rest of the store contract, on every store: transactions commit whole or not at all, a stale revision is
/// a conflict the engine decides again, outbox lanes, timers across a restart, rule-window counting, one live
/// block per target, and concurrent writers.
@Suite struct StoreContractEngineTests {
    private func at(_ seconds: TimeInterval) -> Date { F.t0.addingTimeInterval(seconds) }

    private func ack(by user: String = F.alice) -> AlertEvent {
        .clicked(Click(action: .ack, userID: user, mayAct: true, responseURL: nil))
    }

    private struct Boom: Error {}

    private func blockIP(_ id: String, target: String = "203.0.113.7", by user: String = F.alice) -> AlertEvent {
        .containmentRequested(
            ContainmentRequest(
                id: id, kind: .blockIP, target: target, ttl: 3_600, reason: "brute force", requestedBy: user,
                mayContain: true, approvalsRequired: 0, dryRun: false))
    }

    private let blocking = CoreFixtures.playbook(actions: [ContainmentAction(kind: .blockIP, approvals: 0, ttl: 3_600)])

    @Test(arguments: StoreKind.allCases) func aTransactionThatThrowsWritesNothing(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        _ = try await engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        let before = (try await store.alert(id: "A1"), try await store.outbox(alertID: nil), try await store.auditEntries(after: 0, limit: 100))
        await #expect(throws: Boom.self) {
            try await store.transaction { tx in
                let stored = try #require(try await tx.alert(id: "A1"))
                let transition = AlertMachine.handle(stored.alert, self.ack(), alertID: "A1", now: self.at(5))
                try await tx.write(TransitionRecord(transition, alertID: "A1", revision: stored.revision), now: self.at(5))
                try await tx.appendAudit(AuditRecord(action: "x", actor: "y", detail: "z"), alertID: nil, now: self.at(5))
                try await tx.recordDetection("d9", alertID: "A1", now: self.at(5))
                // Inside, the transaction reads its own write.
                #expect(try await tx.alert(id: "A1")?.alert.status == .acknowledged)
                throw Boom()
            }
        }
        #expect(try await store.alert(id: "A1") == before.0)
        #expect(try await store.outbox(alertID: nil) == before.1)
        #expect(try await store.auditEntries(after: 0, limit: 100) == before.2)
        let again = try await engine.ingest(F.detection(id: "d9"), playbook: F.playbook(), channel: F.channel, newAlertID: "A2", now: at(6))
        #expect(again.status == .grouped)
    }

    @Test(arguments: StoreKind.allCases) func aStaleRevisionIsAConflictAndWritesNothing(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        _ = try await engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        let read = try #require(try await store.transaction { tx in try await tx.alert(id: "A1") })
        // Someone else changes the alert after that read.
        try await engine.apply(.messagePosted(MessageRef(channel: F.channel, ts: "1.1")), to: "A1", now: at(1))
        let audit = try await store.auditEntries(after: 0, limit: 100)
        let stale = AlertMachine.handle(read.alert, ack(), alertID: "A1", now: at(2))
        await #expect(throws: StoreError.revisionConflict(alertID: "A1")) {
            try await store.transaction { tx in
                try await tx.write(TransitionRecord(stale, alertID: "A1", revision: read.revision), now: self.at(2))
            }
        }
        #expect(try await store.alert(id: "A1")?.status == .open)
        #expect(try await store.alert(id: "A1")?.message == MessageRef(channel: F.channel, ts: "1.1"))
        #expect(try await store.auditEntries(after: 0, limit: 100) == audit)
        // A new alert under an id that exists is a conflict too.
        let created = AlertMachine.handle(
            nil, .detectionReceived(F.detection(id: "d2"), playbook: F.playbook(), channel: F.channel), alertID: "A1", now: at(3))
        await #expect(throws: StoreError.revisionConflict(alertID: "A1")) {
            try await store.transaction { tx in try await tx.write(TransitionRecord(created, alertID: "A1", revision: nil), now: self.at(3)) }
        }
    }

    @Test(arguments: StoreKind.allCases) func concurrentWritersLoseNothing(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        // Twenty detections of one subject at once: one alert, twenty occurrences, twenty audit entries.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<20 {
                group.addTask {
                    _ = try await engine.ingest(
                        F.detection(id: "d\(n)"), playbook: F.playbook(), channel: F.channel, newAlertID: "A\(n)", now: self.at(Double(n) / 100))
                }
            }
            try await group.waitForAll()
        }
        let alerts = try await store.alerts(statuses: [.open], limit: 100)
        #expect(alerts.count == 1)
        #expect(alerts.first?.occurrences == 20)
        let audit = try await store.auditEntries(after: 0, limit: 100)
        #expect(audit.count == 20)
        #expect(AuditChain.verify(audit) == .intact(entries: 20))
        #expect(try await store.outbox(alertID: alerts[0].id).filter { $0.effect == .postAlert }.count == 1)
    }

    @Test(arguments: StoreKind.allCases) func onlyTheHeadOfAnAlertsLaneIsDue(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        _ = try await engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        _ = try await engine.ingest(
            F.detection(id: "d2", subject: Subject(ip: "198.51.100.2")), playbook: F.playbook(), channel: F.channel, newAlertID: "A2", now: F.t0)
        // A1: post, then an update (grouped); A2: post. A non-responder's click on A1 is answered out of line.
        _ = try await engine.ingest(F.detection(id: "d3"), playbook: F.playbook(), channel: F.channel, newAlertID: "A3", now: at(1))
        try await engine.apply(.clicked(Click(action: .ack, userID: F.bob, mayAct: false, responseURL: nil)), to: "A1", now: at(2))
        var due = try await store.dueEffects(now: at(10), limit: 10)
        #expect(due.map(\.alertID) == ["A1", "A2", "A1"])
        #expect(due.map(\.effect.coreKind) == ["postAlert", "postAlert", "tellUser"])
        // A retry pushes the head back: its lane waits, the other lanes do not.
        try await engine.retryEffect(try await store.held(due[0].id), error: "http_502", at: at(60), attemptDelta: 1)
        due = try await store.dueEffects(now: at(10), limit: 10)
        #expect(due.map(\.alertID) == ["A2", "A1"])
        #expect(due.map(\.effect.coreKind) == ["postAlert", "tellUser"])
        // Once the head is done, the next effect of that lane is due.
        let head = try #require(try await store.outbox(alertID: "A1").first)
        try await engine.apply(
            .messagePosted(MessageRef(channel: F.channel, ts: "1.1")), to: "A1", now: at(61), completing: try await store.held(head.id))
        due = try await store.dueEffects(now: at(70), limit: 10).filter { $0.alertID == "A1" }
        #expect(due.first?.effect == .updateMessage)
    }

    @Test(arguments: StoreKind.allCases) func timersSurviveANewEngineOverTheSameStore(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await AlertEngine(store: store).ingest(
            F.detection(id: "d1"), playbook: F.playbook(ackTimeout: 900), channel: F.channel, newAlertID: "A1", now: F.t0)
        // "Restart": nothing of the first engine is kept but the store.
        let engine = AlertEngine(store: store)
        let due = try await store.dueTimers(now: at(900), limit: 10)
        #expect(due == [DueTimer(alertID: "A1", kind: .ackTimeout, dueAt: at(900))])
        let fired = try await engine.fire(due[0], now: at(900))
        #expect(fired.outcome == .applied)
        #expect(fired.alert?.escalations == 1)
        // Firing the same timer twice (two replicas, or a crash after commit) changes nothing the second time.
        let twice = try await engine.fire(due[0], now: at(901))
        #expect(twice.outcome != .applied)
        #expect(try await store.alert(id: "A1")?.escalations == 1)
    }

    @Test(arguments: StoreKind.allCases) func ruleWindowCountsAndFiredKeysComeBack(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        let results = try await engine.commitRuleBatch(
            eventIDs: [("rules:audit", "e1"), ("rules:audit", "e2")],
            counted: [("r1", "ip=1", 100), ("r1", "ip=1", 100), ("r1", "ip=2", 101.5)], fired: ["r2|u=1"],
            detections: [(F.detection(id: "det-r1"), F.playbook(), F.channel, "A1")], now: F.t0)
        #expect(results.map(\.status) == [.created])
        #expect(try await store.unseen(source: "rules:audit", ids: ["e1", "e2", "e3"]) == ["e3"])
        let state = try await store.ruleState(since: Date(timeIntervalSince1970: 50))
        #expect(state.times["r1|ip=1"] == [100, 100])
        #expect(state.times["r1|ip=2"] == [101.5])
        #expect(state.fired == ["r2|u=1"])
        #expect(try await store.ruleState(since: Date(timeIntervalSince1970: 101)).times["r1|ip=1"] == nil)
    }

    @Test(arguments: StoreKind.allCases) func oneLiveBlockPerTargetAcrossAlerts(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        _ = try await engine.ingest(F.detection(id: "d1"), playbook: blocking, channel: F.channel, newAlertID: "A1", now: F.t0)
        _ = try await engine.ingest(F.detection(id: "d2", detection: "other"), playbook: blocking, channel: F.channel, newAlertID: "A2", now: F.t0)
        let first = try await engine.apply(blockIP("C-1"), to: "A1", now: at(1))
        #expect(first.outcome == .applied)
        let second = try await engine.apply(blockIP("C-2", by: F.bob), to: "A2", now: at(2))
        guard case .ignored(let reason) = second.outcome else {
            Issue.record("expected a refusal, got \(second.outcome)")
            return
        }
        #expect(reason.contains("C-1") && reason.contains("A1"))
        #expect(try await store.liveContainments(kind: .blockIP, target: "203.0.113.7").map(\.containmentID) == ["C-1"])
        #expect(try await store.alert(id: "A2")?.containments.isEmpty == true)
    }

    @Test(arguments: StoreKind.allCases) func givingUpFailsTheEffectAndFeedsTheAlertTogether(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        _ = try await engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        let post = try #require(try await store.outbox(alertID: "A1").first)
        let transitions = try await engine.giveUp(
            try await store.held(post.id), error: "channel_not_found", alertID: "A1", events: [.postFailed(reason: "channel_not_found")], now: at(5))
        #expect(transitions.map(\.outcome) == [.applied])
        #expect(try await store.outbox(alertID: "A1").first?.state == "failed")
        #expect(try await store.alert(id: "A1")?.postFailure == "channel_not_found")
        #expect(try await store.hasPendingPost(alertID: "A1") == false)
    }
}

extension StoreContractEngineTests {
    @Test(arguments: StoreKind.allCases) func aTimerMovedLaterAfterItWasReadIsNotFiredEarly(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        _ = try await engine.ingest(F.detection(id: "d1"), playbook: F.playbook(ackTimeout: 900), channel: F.channel, newAlertID: "A1", now: F.t0)
        try await engine.apply(
            .snoozeRequested(SnoozeRequest(userID: F.alice, mayAct: true, duration: 600, reason: "scanner")), to: "A1",
            now: F.t0.addingTimeInterval(1))
        let due = try await store.dueTimers(now: F.t0.addingTimeInterval(601), limit: 10)
        #expect(due.map(\.kind) == [.snoozeExpiry])
        // Between the read and the fire, the snooze is moved later: the old reading must not end the new snooze.
        try await engine.apply(
            .snoozeRequested(SnoozeRequest(userID: F.alice, mayAct: true, duration: 7_200, reason: "longer")), to: "A1",
            now: F.t0.addingTimeInterval(600))
        let fired = try await engine.fire(due[0], now: F.t0.addingTimeInterval(601))
        #expect(fired.outcome != .applied)
        #expect(try await store.alert(id: "A1")?.snooze?.until == F.t0.addingTimeInterval(7_800))
        #expect(try await store.dueTimers(now: .distantFuture, limit: 10).map(\.dueAt) == [F.t0.addingTimeInterval(7_800)])
    }
}

extension StoreContractEngineTests {
    @Test(arguments: StoreKind.allCases) func aManualBlockOfAHeldTargetWritesNothing(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = AlertEngine(store: store)
        _ = try await engine.ingest(F.detection(id: "d1"), playbook: blocking, channel: F.channel, newAlertID: "A1", now: F.t0)
        #expect(try await engine.apply(blockIP("C-1"), to: "A1", now: at(1)).outcome == .applied)
        let audit = try await store.auditEntries(after: 0, limit: 100)
        let outbox = try await store.outbox(alertID: nil)
        guard case .containmentRequested(let request) = blockIP("C-2", by: F.bob) else { return }
        let manual = try await engine.createManual(
            F.detection(id: "manual:C-2", detection: "sentry.manual_block"), playbook: blocking, channel: F.channel, newAlertID: "A2",
            request: request, now: at(2))
        guard case .ignored(let reason) = manual.outcome else {
            Issue.record("expected a refusal, got \(manual.outcome)")
            return
        }
        #expect(reason.contains("`C-1`") && reason.contains("`A1`"))
        #expect(try await store.alert(id: "A2") == nil)
        #expect(try await store.auditEntries(after: 0, limit: 100) == audit)
        #expect(try await store.outbox(alertID: nil) == outbox)
    }
}
