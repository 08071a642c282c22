import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// The machine checks every containment target, whichever path asked (button, form, slash command).
@Suite struct CoreContainmentTargetTests {
    typealias F = CoreFixtures

    func request(kind: ContainmentAction.Kind = .blockIP, target: String) -> AlertEvent {
        .containmentRequested(
            ContainmentRequest(
                id: "C-1", kind: kind, target: target, ttl: 3_600, reason: "forged form", requestedBy: F.alice,
                mayContain: true, approvalsRequired: 0, dryRun: false))
    }

    func alert(ip: String? = "203.0.113.7", user: String? = nil) -> Alert {
        F.openAlert(detection: F.detection(subject: Subject(slackUserID: user, ip: ip)))
    }

    @Test(arguments: ["127.0.0.1", "224.0.0.1", "10.0.0.0/8", "0.0.0.0/0", "169.254.1.1", "::1", "ff02::1", "not an ip", "203.0.113.7/33"])
    func refusedTargetsNeverReachAnExecutor(target: String) {
        // Even on an alert whose subject is that very address.
        let alert = alert(ip: target)
        let transition = AlertMachine.handle(alert, request(target: target), alertID: alert.id, now: F.t0)
        guard case .rejected(let reason) = transition.outcome else {
            Issue.record("expected a refusal for \(target), got \(transition.outcome)")
            return
        }
        #expect(reason.contains("cannot block"))
        #expect(!transition.effects.contains { if case .executeContainment = $0 { true } else { false } })
        #expect(transition.alert?.containments.isEmpty == true)
        #expect(transition.audit?.action == "containment.refused")
        #expect(transition.effects.contains { if case .tellUser = $0 { true } else { false } })
    }

    @Test func aTargetOtherThanTheAlertsSubjectIsRefused() {
        let alert = alert()
        let transition = AlertMachine.handle(alert, request(target: "198.51.100.9"), alertID: alert.id, now: F.t0)
        guard case .rejected(let reason) = transition.outcome else {
            Issue.record("expected a refusal, got \(transition.outcome)")
            return
        }
        #expect(reason.contains("its own subject"))
        #expect(transition.alert?.containments.isEmpty == true)
    }

    @Test func theSubjectInAnotherSpellingIsAcceptedInCanonicalForm() {
        let alert = alert(ip: "2001:DB8:0:0::7")
        let transition = AlertMachine.handle(alert, request(target: " 2001:db8::7"), alertID: alert.id, now: F.t0)
        #expect(transition.outcome == .applied)
        #expect(transition.alert?.containments.first?.target == "2001:db8::7")
    }

    @Test func blockUserNeedsAUserID() {
        let good = alert(ip: nil, user: "U0MALLORY")
        #expect(AlertMachine.handle(good, request(kind: .blockUser, target: "U0MALLORY"), alertID: good.id, now: F.t0).outcome == .applied)
        let bad = alert(ip: nil, user: "<!channel>")
        guard case .rejected = AlertMachine.handle(bad, request(kind: .blockUser, target: "<!channel>"), alertID: bad.id, now: F.t0).outcome else {
            Issue.record("a non-user target must be refused")
            return
        }
    }
}
