import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// Approved-only in the pure machine and the playbook loader.
@Suite struct CoreApprovedOnlyTests {
    typealias F = CoreFixtures
    static let network = "N_24329156"
    static let settings = ApprovedOnlySettings(auto: true, debounce: 30, cidrs: ["10.20.0.0/24"], groups: ["Business devices"])

    static func playbook(auto: Bool = true, approvals: Int = 0, debounce: Int = 30) -> Playbook {
        var settings = Self.settings
        settings.auto = auto
        settings.debounce = debounce
        return Playbook(
            id: "uplinks", title: "Uplinks", detection: "meraki.public_ip_change", severity: .medium,
            actions: [ContainmentAction(kind: .approvedOnly, approvals: approvals, ttl: 43_200, approvedOnly: settings)])
    }

    static func failoverAlert(_ playbook: Playbook = playbook(), interface: String = "cellular", id: String = "A-FAILOVER1") -> Alert {
        F.openAlert(
            id: id, playbook: playbook,
            detection: F.detection(
                detection: "meraki.public_ip_change", subject: Subject(merakiNetworkID: network, merakiSerial: "Q234-ABCD-0001"),
                evidence: ["change": "uplink_failover", "interface": .string(interface), "source": "meraki-uplinks"], occurredAt: F.t0))
    }

    func change(_ kind: UplinkChange.Kind, at seconds: TimeInterval, source: String = "meraki-uplinks", elsewhere: [String] = []) -> AlertEvent {
        .uplinkChanged(
            UplinkChange(kind: kind, networkID: Self.network, at: F.t0.addingTimeInterval(seconds), source: source, heldElsewhere: elsewhere))
    }

    func step(_ alert: Alert?, _ event: AlertEvent, at seconds: TimeInterval) throws -> Transition {
        AlertMachine.handle(try #require(alert), event, alertID: "A-FAILOVER1", now: F.t0.addingTimeInterval(seconds))
    }

    /// Failover → executing → active: the auto containment as the runner leaves it.
    func activeAuto() throws -> (Alert, String) {
        let applied = try step(Self.failoverAlert(), change(.cellularFailover, at: 0), at: 1)
        let id = try #require(applied.alert?.containments.first?.id)
        let active = try step(applied.alert, .containmentSucceeded(id: id, phase: .execute, report: "written"), at: 2)
        return (try #require(active.alert), id)
    }

    // MARK: Rules

    @Test func rulesAllowEachApprovedSourceThenDenyTheRestAllMarked() {
        let rules = CellularRulePlan.rules(
            containmentID: "C-9", settings: Self.settings, groups: ["Business devices": ["10.30.0.0/24", "10.31.0.0/24"]])
        #expect(rules.map(\.policy) == ["allow", "allow", "deny"])
        #expect(rules.map(\.srcCidr) == ["10.20.0.0/24", "10.30.0.0/24,10.31.0.0/24", "Any"])
        #expect(rules.allSatisfy { $0.comment.hasPrefix("sentry:C-9 ") })
    }

    // MARK: Auto

    @Test func autoAppliesAtOnceOnAFailoverToCellularAndSaysSo() throws {
        let applied = try step(Self.failoverAlert(), change(.cellularFailover, at: 0), at: 1)
        let item = try #require(applied.alert?.containments.first)
        #expect(item.kind == .approvedOnly && item.target == Self.network && item.status == .executing)
        #expect(item.requestedBy == AlertMachine.autoActor && item.approvalsRequired == 0)
        #expect(applied.effects.contains(.executeContainment(id: item.id)))
        let reply = applied.effects.compactMap { if case .replyInThread(let text) = $0 { text } else { nil } }.joined()
        #expect(reply.contains("automatically") && reply.contains("auto: true") && reply.contains("deny any source"))
    }

    @Test func aSecondFailoverWhileOneIsActiveAddsNothing() throws {
        let (alert, _) = try activeAuto()
        let again = try step(alert, change(.cellularFailover, at: 60, source: "syslog"), at: 61)
        #expect(again.outcome != .applied && again.effects.isEmpty && again.alert?.containments.count == 1)
        // Held by another alert: this one adds none either.
        let other = try step(Self.failoverAlert(), change(.cellularFailover, at: 0, elsewhere: ["C-OTHER"]), at: 1)
        #expect(other.alert?.containments.isEmpty == true && other.effects.isEmpty)
    }

    @Test func onlyAFailoverToCellularWithAutoApplies() throws {
        let manual = try step(Self.failoverAlert(Self.playbook(auto: false, approvals: 1)), change(.cellularFailover, at: 0), at: 1)
        #expect(manual.alert?.containments.isEmpty == true)
        let wan2 = Self.failoverAlert(interface: "wan2")
        #expect(!wan2.isCellularFailover)
        #expect(try step(wan2, change(.cellularFailover, at: 0), at: 1).alert?.containments.isEmpty == true)
    }

    // MARK: Recovery

    @Test func thePrimaryBackRollsBackAfterTheDebounceAndTellsHowLongOnCellular() throws {
        let (alert, id) = try activeAuto()
        let back = try step(alert, change(.primaryActive, at: 2_530), at: 2_531)
        #expect(back.effects.contains(.scheduleTimer(.primaryRestored(id), at: F.t0.addingTimeInterval(2_561))))
        #expect(!back.effects.contains(.releaseContainment(id: id)))
        #expect(try step(back.alert, change(.primaryActive, at: 2_540, source: "syslog"), at: 2_541).outcome != .applied)

        let fired = try step(back.alert, .timerFired(.primaryRestored(id)), at: 2_561)
        #expect(fired.effects.contains(.releaseContainment(id: id)))
        #expect(fired.alert?.containments.first?.releasedBy == AlertMachine.recoveryActor)
        let done = try step(fired.alert, .containmentSucceeded(id: id, phase: .release, report: "removed"), at: 2_562)
        let reply = done.effects.compactMap { if case .replyInThread(let text) = $0 { text } else { nil } }.joined()
        #expect(reply.contains("primary uplink is back") && reply.contains("on cellular for 42m 10s"))
        #expect(AlertMessage.containmentLine(try #require(done.alert?.containments.first)).contains("primary uplink back"))
    }

    @Test func aFlapInsideTheDebounceCancelsTheRollbackWithoutAWrite() throws {
        let (alert, id) = try activeAuto()
        let back = try step(alert, change(.primaryActive, at: 100), at: 100)
        let flap = try step(back.alert, change(.cellularFailover, at: 110, source: "syslog"), at: 110)
        #expect(flap.effects.contains(.cancelTimer(.primaryRestored(id))))
        #expect(!flap.effects.contains { if case .executeContainment = $0 { true } else if case .releaseContainment = $0 { true } else { false } })
        #expect(flap.alert?.containments.first?.primaryBackAt == nil)
        // A timer that fires anyway (already claimed) finds it back on cellular.
        #expect(try step(flap.alert, .timerFired(.primaryRestored(id)), at: 130).outcome != .applied)
        #expect(flap.alert?.containments.first?.status == .active)
    }

    @Test func aFailoverWhileTheRollbackRunsGetsRulesOfItsOwn() throws {
        let (alert, id) = try activeAuto()
        let back = try step(alert, change(.primaryActive, at: 100), at: 100)
        let releasing = try step(back.alert, .timerFired(.primaryRestored(id)), at: 130)
        #expect(releasing.alert?.containments.first?.status == .releasing)
        // Back on cellular before the removal finished: not a flap of the one being removed.
        let again = try step(releasing.alert, change(.cellularFailover, at: 140), at: 140)
        #expect(again.outcome == .applied)
        let fresh = try #require(again.alert?.containments.last)
        #expect(fresh.id != id && fresh.status == .executing)
        #expect(again.effects.contains(.executeContainment(id: fresh.id)))
        #expect(!again.effects.contains(.cancelTimer(.primaryRestored(id))))
        // The recovery after that goes to the new one, not the one still rolling back.
        let active = try step(again.alert, .containmentSucceeded(id: fresh.id, phase: .execute, report: "written"), at: 141)
        let back2 = try step(active.alert, change(.primaryActive, at: 200), at: 200)
        #expect(back2.effects.contains(.scheduleTimer(.primaryRestored(fresh.id), at: F.t0.addingTimeInterval(230))))
    }

    @Test func aFailedContainmentDoesNotBlockTheNextFailover() throws {
        let applied = try step(Self.failoverAlert(), change(.cellularFailover, at: 0), at: 1)
        let id = try #require(applied.alert?.containments.first?.id)
        let failed = try step(applied.alert, .containmentFailed(id: id, phase: .execute, reason: "Meraki answered 400"), at: 2)
        #expect(failed.alert?.containments.first?.status == .failed)
        let next = try step(failed.alert, change(.cellularFailover, at: 600), at: 600)
        #expect(next.outcome == .applied)
        #expect(next.alert?.containments.count == 2)
    }

    @Test func reportsOlderThanTheStateTheyWouldChangeAreIgnored() throws {
        let (alert, id) = try activeAuto()
        // A recovery older than the failover (a source reporting late) starts no rollback.
        #expect(try step(alert, change(.primaryActive, at: -30), at: 50).outcome != .applied)
        let back = try step(alert, change(.primaryActive, at: 100), at: 100)
        // The collector's late report of the original failover is no flap: the rollback timer stays.
        let stale = try step(back.alert, change(.cellularFailover, at: 0, source: "meraki-uplinks"), at: 105)
        #expect(stale.outcome != .applied)
        #expect(!stale.effects.contains(.cancelTimer(.primaryRestored(id))))
    }

    @Test func arrivingWhileAwaitingApprovalWithdrawsTheRequest() throws {
        let alert = Self.failoverAlert(Self.playbook(auto: false, approvals: 1))
        let requested = try step(
            alert,
            .containmentRequested(
                ContainmentRequest(
                    id: "C-REQ", kind: .approvedOnly, target: Self.network, ttl: 3_600, reason: "LTE bandwidth", requestedBy: F.alice,
                    mayContain: true, approvalsRequired: 1, dryRun: false)), at: 5)
        #expect(requested.alert?.containments.first?.status == .awaitingApproval)
        #expect(requested.alert?.containments.first?.approvedOnly == Self.playbook(auto: false, approvals: 1).actions[0].approvedOnly)
        let back = try step(requested.alert, change(.primaryActive, at: 50), at: 50)
        #expect(back.alert?.containments.first?.status == .rejected)
        #expect(!back.effects.contains { if case .releaseContainment = $0 { true } else { false } })
    }

    @Test func restoreByHandCancelsThePendingRollbackTimer() throws {
        let (alert, id) = try activeAuto()
        let back = try step(alert, change(.primaryActive, at: 100), at: 100)
        let restored = try step(
            back.alert, .containmentDecided(ContainmentDecision(containmentID: id, action: .unblock, userID: F.alice, mayContain: true)), at: 105)
        #expect(restored.effects.contains(.cancelTimer(.primaryRestored(id))) && restored.effects.contains(.releaseContainment(id: id)))
        #expect(AlertMessage.containmentActions(try #require(alert.containments.first))?.encoded().contains("Restore") == true)
    }

    @Test func aRequestOnAnAlertThatIsNotACellularFailoverIsRefused() throws {
        let alert = Self.failoverAlert(Self.playbook(auto: false, approvals: 1), interface: "wan2")
        let refused = try step(
            alert,
            .containmentRequested(
                ContainmentRequest(
                    id: "C-REQ", kind: .approvedOnly, target: Self.network, ttl: 3_600, reason: "x", requestedBy: F.alice,
                    mayContain: true, approvalsRequired: 1, dryRun: false)), at: 5)
        guard case .rejected(let reason) = refused.outcome else {
            Issue.record("not refused")
            return
        }
        #expect(reason.contains("not one"))
        #expect(AlertMessage.actionsBlock(alert)?.encoded().contains("approved_only") == false)
        #expect(AlertMessage.actionsBlock(Self.failoverAlert(Self.playbook(auto: false)))?.encoded().contains("Approved devices only") == true)
    }

    // MARK: Lint

    func lint(_ action: String) -> [String] {
        let yaml = "id: up\ntitle: Up\ndetection: meraki.public_ip_change\nactions:\n  approved_only: \(action)\n"
        return PlaybookLoader.parse(yaml, file: "up.yml").problems.map(\.message)
    }

    @Test func lintRefusesAnEmptyApprovedListAndOtherMistakes() {
        #expect(lint("{approvals: 0, auto: true, approved: {cidrs: []}}").contains { $0.contains("would cut every device off") })
        #expect(lint("{approvals: 0, auto: true, approved: {cidrs: [], groups: []}}").contains { $0.contains("would cut every device off") })
        #expect(lint("{approvals: 0, auto: true}").contains { $0.contains("needs 'approved'") })
        #expect(lint("{approvals: 1, auto: true, approved: {cidrs: [10.20.0.0/24]}}").contains { $0.contains("cannot also need 1 approval") })
        #expect(lint("{approvals: 0, approved: {cidrs: [10.20.0.1/24]}}").contains { $0.contains("host bits") })
        #expect(lint("{approvals: 0, approved: {cidrs: [0.0.0.0/0]}}").contains { $0.contains("approve everyone") })
        #expect(lint("{approvals: 0, approved: {cidrs: [10.20.0.0/24]}, placement: middle}").contains { $0.contains("'first'") })
        #expect(lint("{approvals: 0, approved: {cidrs: [10.20.0.0/24]}, debounce: soon}").contains { $0.contains("debounce") })
        #expect(lint("{approvals: 0, approved: {cidrz: [10.20.0.0/24]}}").contains { $0.contains("expected cidrs, groups") })
    }

    @Test func lintReadsTheSettings() throws {
        let yaml =
            "id: up\ntitle: Up\ndetection: meraki.public_ip_change\nactions:\n  approved_only: {approvals: 0, ttl: 6h, auto: true, debounce: 45s, placement: last, approved: {cidrs: [10.20.0.0/24, 192.0.2.7], groups: [\"Business devices\"]}}\n"
        let parsed = PlaybookLoader.parse(yaml, file: "up.yml")
        #expect(parsed.problems.isEmpty)
        let action = try #require(parsed.playbook?.actions.first)
        #expect(action.kind == .approvedOnly && action.ttl == 21_600)
        #expect(
            action.approvedOnly
                == ApprovedOnlySettings(
                    auto: true, debounce: 45, cidrs: ["10.20.0.0/24", "192.0.2.7/32"], groups: ["Business devices"], placement: .last))
    }
}
