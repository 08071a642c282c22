import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// The decisions the engine takes around the machine, as pure functions: which alert a detection joins, when
/// a containment must wait for another one, and what a transition writes.
@Suite struct CoreEngineRulesTests {
    typealias F = CoreFixtures

    private func alert(_ id: String, status: AlertStatus = .open, createdAt: TimeInterval = 0, window: TimeInterval = 3_600) -> Alert {
        var alert = F.openAlert(id: id, now: F.t0.addingTimeInterval(createdAt))
        alert.status = status
        alert.groupUntil = alert.createdAt.addingTimeInterval(window)
        return alert
    }

    // MARK: Grouping

    @Test func theNewestOpenAlertInsideItsWindowTakesTheDetection() {
        let candidates = [alert("A1", createdAt: 0), alert("A2", createdAt: 100), alert("A3", createdAt: 50)]
        #expect(AlertGrouping.target(for: F.detection(), among: candidates, now: F.t0.addingTimeInterval(200))?.id == "A2")
    }

    @Test(arguments: [AlertStatus.resolved, .dismissed])
    func aFinishedAlertTakesNothing(status: AlertStatus) {
        let candidates = [alert("A1", status: status, createdAt: 100), alert("A2", createdAt: 0)]
        #expect(AlertGrouping.target(for: F.detection(), among: candidates, now: F.t0.addingTimeInterval(200))?.id == "A2")
    }

    @Test func anAcknowledgedAlertStillTakesDetections() {
        #expect(AlertGrouping.target(for: F.detection(), among: [alert("A1", status: .acknowledged)], now: F.t0)?.id == "A1")
    }

    @Test func theWindowClosesAtGroupUntil() {
        let candidates = [alert("A1", window: 60)]
        #expect(AlertGrouping.target(for: F.detection(), among: candidates, now: F.t0.addingTimeInterval(59.9))?.id == "A1")
        #expect(AlertGrouping.target(for: F.detection(), among: candidates, now: F.t0.addingTimeInterval(60)) == nil)
    }

    @Test func anotherGroupKeyNeverMatches() {
        // A store that hands back a wrong candidate does not make it a match.
        let detection = F.detection(subject: Subject(ip: "198.51.100.1"))
        #expect(AlertGrouping.target(for: detection, among: [alert("A1")], now: F.t0) == nil)
        #expect(AlertGrouping.target(for: F.detection(), among: [], now: F.t0) == nil)
    }

    // MARK: One live block per target

    private func request(_ id: String) -> ContainmentRequest {
        ContainmentRequest(
            id: id, kind: .blockIP, target: "203.0.113.7", ttl: 3_600, reason: "r", requestedBy: F.alice, mayContain: true,
            approvalsRequired: 0, dryRun: false, responseURL: "https://hooks.slack.test/r")
    }

    @Test func anotherLiveContainmentOfTheTargetStopsTheRequest() {
        let live = [LiveContainment(containmentID: "C-1", alertID: "A9", status: "awaiting_approval")]
        let reason = ContainmentConflict.reason(for: request("C-2"), live: live)
        #expect(reason == "Block IP `203.0.113.7` is already awaiting approval as `C-1` on alert `A9`")
        let refusal = ContainmentConflict.refusal(request("C-2"), on: alert("A1"), reason: reason!)
        #expect(refusal.outcome == .ignored(reason!))
        #expect(refusal.audit == nil)
        #expect(refusal.effects == [.tellUser(userID: F.alice, text: "Nothing to do: \(reason!).", responseURL: "https://hooks.slack.test/r")])
    }

    @Test func theRequestsOwnContainmentOrNoneLetsItThrough() {
        #expect(ContainmentConflict.reason(for: request("C-1"), live: []) == nil)
        #expect(
            ContainmentConflict.reason(for: request("C-1"), live: [LiveContainment(containmentID: "C-1", alertID: "A1", status: "active")]) == nil)
    }

    // MARK: What a transition writes

    @Test func anAppliedTransitionIsKeyedByItsNextRevision() {
        let created = AlertMachine.handle(
            nil, .detectionReceived(F.detection(), playbook: F.playbook(ackTimeout: 900), channel: F.channel), alertID: "A1", now: F.t0)
        let record = TransitionRecord(created, alertID: "A1", revision: nil)
        #expect(record.save == created.alert)
        #expect(record.expectedRevision == nil)
        #expect(record.nextRevision == 1)
        #expect(record.auditAlertID == "A1")
        #expect(record.outbox.map(\.idempotencyKey) == ["A1#1.0"])
        #expect(record.outbox.map(\.ordered) == [true])
        #expect(record.timers == [.set(.ackTimeout, due: F.t0.addingTimeInterval(900))])

        let grouped = AlertMachine.handle(created.alert, .detectionGrouped(F.detection(id: "d2")), alertID: "A1", now: F.t0.addingTimeInterval(5))
        let next = TransitionRecord(grouped, alertID: "A1", revision: 1)
        #expect(next.nextRevision == 2)
        #expect(next.outbox.filter { $0.effect == .updateMessage }.map(\.coalesceKey) == ["update:A1"])
    }

    @Test func anIgnoredTransitionSavesNothingAndAnswersOutOfLine() {
        let alert = F.alert(.resolved)
        let ignored = AlertMachine.handle(alert, .clicked(Click(action: .resolve, userID: F.bob, mayAct: true)), alertID: alert.id, now: F.t0)
        let record = TransitionRecord(ignored, alertID: alert.id, revision: 7)
        #expect(record.save == nil)
        #expect(record.nextRevision == 7)
        #expect(record.outbox.allSatisfy { !$0.ordered && $0.coalesceKey == "tell:\(alert.id):\(F.bob)" })
        #expect(!record.outbox.isEmpty)
        // Two ignored clicks are two answers (their keys differ), coalesced while one is pending.
        let again = TransitionRecord(ignored, alertID: alert.id, revision: 7)
        #expect(again.outbox.map(\.idempotencyKey) != record.outbox.map(\.idempotencyKey))
    }

    @Test func ignoredEventStemsNeverRepeatAcrossConcurrentCallers() async {
        let stems = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { (0..<2_000).map { _ in IgnoredEventStem.next() } } }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(stems.count == 16_000)
        #expect(Set(stems).count == stems.count)
        // One prefix for the process, then the counter.
        #expect(Set(stems.map { $0.split(separator: "-").first! }).count == 1)
    }

    @Test func anEventAboutNoAlertIsAuditedWithoutOne() {
        let rejected = AlertMachine.handle(nil, .clicked(Click(action: .ack, userID: F.bob, mayAct: true)), alertID: "A404", now: F.t0)
        let record = TransitionRecord(rejected, alertID: "A404", revision: nil)
        #expect(record.auditAlertID == nil)
        #expect(record.outbox.allSatisfy { $0.alertID == nil })
    }
}
