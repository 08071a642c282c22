import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// The engine's resolve in the pure machine (issue 16 point 4).
@Suite struct CoreEngineResolveTests {
    typealias F = CoreFixtures
    static let resolution = EngineResolution(by: "Alertmanager", at: F.t0.addingTimeInterval(500))

    func engineDetection(_ id: String, engineAlert: String) -> Detection {
        var detection = F.detection(id: id, detection: "alertmanager.instancedown")
        detection.engineAlert = engineAlert
        return detection
    }

    func engineAlert(playbook: Playbook = F.playbook(), engineAlert: String = "am:fp1") -> Alert {
        F.openAlert(playbook: playbook, detection: engineDetection("am:fp1:t0", engineAlert: engineAlert))
    }

    func resolve(_ alert: Alert, engineAlert: String = "am:fp1", at seconds: TimeInterval = 600) -> Transition {
        AlertMachine.handle(
            alert, .engineResolved(Self.resolution, engineAlert: engineAlert), alertID: alert.id, now: F.t0.addingTimeInterval(seconds))
    }

    func replies(_ transition: Transition) -> [String] {
        transition.effects.compactMap { if case .replyInThread(let text) = $0 { text } else { nil } }
    }

    @Test func openAlertIsResolvedByTheEngine() throws {
        let alert = engineAlert()
        #expect(alert.engineFiring == ["am:fp1"])
        let transition = resolve(alert)
        #expect(transition.outcome == .applied)
        let resolved = try #require(transition.alert)
        #expect(resolved.status == .resolved)
        #expect(resolved.resolvedByEngine == "Alertmanager")
        #expect(resolved.closedBy == nil)
        #expect(resolved.closedAt == F.t0.addingTimeInterval(600))
        #expect(resolved.closer == "Alertmanager")
        #expect(resolved.engineFiring == [])
        #expect(transition.effects.contains(.updateMessage))
        #expect(transition.effects.contains(.cancelTimer(.ackTimeout)))
        #expect(replies(transition).count == 1)
        #expect(replies(transition)[0].hasPrefix(":white_check_mark: Resolved by Alertmanager"))
        #expect(transition.audit?.action == "alert.resolved")
        #expect(transition.audit?.actor == "engine:Alertmanager")
        #expect(AlertMessage.statusLine(resolved).contains("Resolved by Alertmanager"))
        // A click on it now says who closed it.
        let late = AlertMachine.handle(
            resolved, .clicked(Click(action: .ack, userID: F.alice, mayAct: true)), alertID: resolved.id, now: F.t0.addingTimeInterval(700))
        #expect(late.effects.contains { if case .tellUser(_, let text, _) = $0 { text.contains("by Alertmanager") } else { false } })
    }

    @Test func acknowledgedAlertStaysOpenAndTheThreadSaysSo() throws {
        var alert = engineAlert()
        alert.status = .acknowledged
        alert.acknowledgedBy = F.alice
        let transition = resolve(alert)
        #expect(transition.outcome == .applied)
        let kept = try #require(transition.alert)
        #expect(kept.status == .acknowledged)
        #expect(kept.engineResolution == Self.resolution)
        #expect(kept.resolvedByEngine == nil)
        #expect(replies(transition).count == 1)
        #expect(replies(transition)[0].contains("Alertmanager says this is over"))
        #expect(replies(transition)[0].contains("<@\(F.alice)> acknowledged it"))
        #expect(transition.audit?.action == "alert.engine_resolved_noted")
        // The message says what the engine said.
        let context = AlertMessage.render(kept).blocks.encoded()
        #expect(context.contains("Alertmanager says it is over"))
    }

    @Test func activeContainmentKeepsTheAlertOpen() throws {
        let playbook = F.playbook(actions: [ContainmentAction(kind: .blockIP, approvals: 0, ttl: 3_600)])
        let alert = engineAlert(playbook: playbook)
        let requested = AlertMachine.handle(
            alert,
            .containmentRequested(
                ContainmentRequest(
                    id: "C-1", kind: .blockIP, target: "203.0.113.7", ttl: 3_600, reason: "scan", requestedBy: F.alice, mayContain: true,
                    approvalsRequired: 0, dryRun: false, responseURL: nil)), alertID: alert.id, now: F.t0.addingTimeInterval(100))
        let contained = try #require(requested.alert)
        #expect(contained.containments.first.map { !$0.status.isFinal } == true)
        let transition = resolve(contained)
        #expect(transition.alert?.status == .open)
        #expect(replies(transition).first?.contains("It stays open") == true)
    }

    @Test func autoResolveOffOnlyNotes() throws {
        var playbook = F.playbook()
        playbook.autoResolve = false
        let transition = resolve(engineAlert(playbook: playbook))
        #expect(transition.alert?.status == .open)
        #expect(replies(transition).first?.contains("auto-resolve is off") == true)
    }

    @Test func resolvedOnlyOnceEveryGroupedEngineAlertIsOver() throws {
        let alert = engineAlert()
        let grouped = AlertMachine.handle(
            alert, .detectionGrouped(engineDetection("am:fp2:t0", engineAlert: "am:fp2")), alertID: alert.id, now: F.t0.addingTimeInterval(60))
        let both = try #require(grouped.alert)
        #expect(both.engineFiring == ["am:fp1", "am:fp2"])
        let first = resolve(both, engineAlert: "am:fp1")
        #expect(first.alert?.status == .open)
        #expect(first.alert?.engineFiring == ["am:fp2"])
        #expect(replies(first).first?.contains("1 still firing") == true)
        let second = resolve(try #require(first.alert), engineAlert: "am:fp2", at: 700)
        #expect(second.alert?.status == .resolved)
    }

    @Test func finishedAlertIgnoresTheEngine() {
        for status in [AlertStatus.resolved, .dismissed] {
            var alert = engineAlert()
            alert.status = status
            alert.closedBy = F.alice
            let transition = resolve(alert)
            guard case .ignored = transition.outcome else {
                Issue.record("expected ignored for \(status)")
                continue
            }
            #expect(transition.effects.isEmpty)
        }
    }

    @Test func firingAgainClearsWhatTheEngineSaid() throws {
        var alert = engineAlert()
        alert.status = .acknowledged
        alert.acknowledgedBy = F.alice
        let noted = try #require(resolve(alert).alert)
        #expect(noted.engineResolution != nil)
        let again = AlertMachine.handle(
            noted, .detectionGrouped(engineDetection("am:fp1:t1", engineAlert: "am:fp1")), alertID: alert.id, now: F.t0.addingTimeInterval(900))
        #expect(again.alert?.engineResolution == nil)
        #expect(again.alert?.engineFiring == ["am:fp1"])
    }

    @Test func earlyResolveIsKeptForItsWindowOnly() {
        let early = EarlyResolve(
            resolution: Self.resolution, engineAlert: "am:fp1", detectionID: "am:fp1:t0:resolved", until: F.t0.addingTimeInterval(60))
        #expect(EarlyResolve.recall(early.stored, now: F.t0) == early)
        #expect(EarlyResolve.recall(early.stored, now: F.t0.addingTimeInterval(60)) == nil)
        #expect(EarlyResolve.recall("A-123", now: F.t0) == nil)
        #expect(EarlyResolve.key(firing: "x") != "x")
    }
}
