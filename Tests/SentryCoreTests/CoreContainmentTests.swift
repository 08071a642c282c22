import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

@Suite struct CoreContainmentTests {
    typealias F = CoreFixtures
    static let carol = "U0CAROL1"

    func request(
        id: String = "C-1", kind: ContainmentAction.Kind = .blockIP, target: String = "203.0.113.7", by user: String = F.alice,
        mayContain: Bool = true, approvals: Int = 1, dryRun: Bool = false
    ) -> AlertEvent {
        .containmentRequested(
            ContainmentRequest(
                id: id, kind: kind, target: target, ttl: 14_400, reason: "password spraying", requestedBy: user,
                mayContain: mayContain, approvalsRequired: approvals, dryRun: dryRun, responseURL: "https://hooks.example/r"))
    }

    func decide(_ action: ContainmentDecision.Action, by user: String, id: String = "C-1", mayContain: Bool = true) -> AlertEvent {
        .containmentDecided(
            ContainmentDecision(containmentID: id, action: action, userID: user, mayContain: mayContain, responseURL: "https://hooks.example/r"))
    }

    func step(_ alert: Alert, _ event: AlertEvent, at seconds: TimeInterval = 10) -> Transition {
        AlertMachine.handle(alert, event, alertID: alert.id, now: F.t0.addingTimeInterval(seconds))
    }

    func status(_ transition: Transition, _ id: String = "C-1") -> Containment.Status? {
        transition.alert?.containments.first { $0.id == id }?.status
    }

    @Test func approvedRequestExecutesOnceThenExpiresIntoRollback() throws {
        let alert = F.openAlert()
        let requested = step(alert, request())
        #expect(status(requested) == .awaitingApproval)
        #expect(!requested.effects.contains(.executeContainment(id: "C-1")))
        #expect(requested.audit?.action == "containment.requested")

        let approved = step(try #require(requested.alert), decide(.approve, by: F.bob), at: 20)
        #expect(status(approved) == .executing)
        #expect(approved.effects.filter { $0 == .executeContainment(id: "C-1") }.count == 1)
        #expect(approved.audit?.action == "containment.approved")

        // A second approver clicking at the same moment finds it executing: nothing runs twice.
        let late = step(try #require(approved.alert), decide(.approve, by: Self.carol), at: 21)
        guard case .ignored = late.outcome else {
            Issue.record("expected ignored, got \(late.outcome)")
            return
        }
        #expect(late.alert == approved.alert)
        #expect(!late.effects.contains(.executeContainment(id: "C-1")))

        let done = step(try #require(approved.alert), .containmentSucceeded(id: "C-1", phase: .execute, report: "rule added on 2 networks"), at: 30)
        #expect(status(done) == .active)
        let until = F.t0.addingTimeInterval(30 + 14_400)
        #expect(done.effects.contains(.scheduleTimer(.containmentExpiry("C-1"), at: until)))
        #expect(done.alert?.containments.first?.activeUntil == until)

        let expiry = step(try #require(done.alert), .timerFired(.containmentExpiry("C-1")), at: 30 + 14_400)
        #expect(status(expiry) == .releasing)
        #expect(expiry.effects.contains(.releaseContainment(id: "C-1")))
        #expect(expiry.audit?.action == "containment.expired")
        // The timer firing twice (restart) rolls back once.
        let again = step(try #require(expiry.alert), .timerFired(.containmentExpiry("C-1")), at: 30 + 14_401)
        guard case .ignored = again.outcome else {
            Issue.record("expected ignored")
            return
        }
        #expect(!again.effects.contains(.releaseContainment(id: "C-1")))

        let released = step(try #require(expiry.alert), .containmentSucceeded(id: "C-1", phase: .release, report: "rule removed"), at: 30 + 14_402)
        #expect(status(released) == .released)
        #expect(released.alert?.containments.first?.releasedBy == "expiry")
        let lateResult = step(try #require(released.alert), .containmentSucceeded(id: "C-1", phase: .release, report: "again"), at: 30 + 14_403)
        guard case .ignored = lateResult.outcome else {
            Issue.record("expected ignored")
            return
        }
    }

    @Test func requesterCannotApproveTheirOwnRequest() throws {
        let requested = step(F.openAlert(), request(by: F.alice))
        let own = step(try #require(requested.alert), decide(.approve, by: F.alice))
        guard case .rejected(let reason) = own.outcome else {
            Issue.record("expected rejected")
            return
        }
        #expect(reason.contains("another responder"))
        #expect(own.alert == requested.alert)
        #expect(own.audit?.action == "containment.refused")
        #expect(own.effects.contains { if case .tellUser(F.alice, _, _) = $0 { true } else { false } })
    }

    @Test func approvalsAreDistinctResponders() throws {
        var alert = try #require(step(F.openAlert(), request(approvals: 2)).alert)
        alert = try #require(step(alert, decide(.approve, by: F.bob)).alert)
        let twice = step(alert, decide(.approve, by: F.bob))
        guard case .ignored = twice.outcome else {
            Issue.record("expected ignored")
            return
        }
        #expect(alert.containments.first?.approvals == [F.bob])
        let second = step(alert, decide(.approve, by: Self.carol))
        #expect(status(second) == .executing)
        #expect(second.alert?.containments.first?.approvals == [F.bob, Self.carol])
    }

    @Test func nonRespondersAreRefusedEverywhere() throws {
        let refused = step(F.openAlert(), request(mayContain: false))
        guard case .rejected = refused.outcome else {
            Issue.record("expected rejected")
            return
        }
        #expect(refused.alert?.containments.isEmpty == true)
        #expect(refused.audit?.action == "containment.refused")
        let alert = try #require(step(F.openAlert(), request()).alert)
        for action in ContainmentDecision.Action.allCases {
            let click = step(alert, decide(action, by: "U0MALLORY", mayContain: false))
            guard case .rejected = click.outcome else {
                Issue.record("\(action): expected rejected")
                return
            }
            #expect(click.alert == alert)
        }
    }

    @Test func zeroApprovalsRunsAtOnceAndDuplicatesAreRefused() throws {
        let requested = step(F.openAlert(), request(approvals: 0))
        #expect(status(requested) == .executing)
        #expect(requested.effects.contains(.executeContainment(id: "C-1")))
        let same = step(try #require(requested.alert), request(approvals: 0))
        guard case .ignored = same.outcome else {
            Issue.record("expected ignored (same id)")
            return
        }
        let other = step(try #require(requested.alert), request(id: "C-2", approvals: 0))
        guard case .ignored(let reason) = other.outcome else {
            Issue.record("expected ignored (same target)")
            return
        }
        #expect(reason.contains("already"))
        #expect(other.alert?.containments.count == 1)
    }

    @Test func rejectFailRetryAndUnblock() throws {
        let alert = try #require(step(F.openAlert(), request()).alert)
        let rejected = step(alert, decide(.reject, by: F.bob))
        #expect(status(rejected) == .rejected)
        #expect(!rejected.effects.contains(.executeContainment(id: "C-1")))
        let approveAfter = step(try #require(rejected.alert), decide(.approve, by: Self.carol))
        guard case .ignored = approveAfter.outcome else {
            Issue.record("expected ignored")
            return
        }

        var running = try #require(step(alert, decide(.approve, by: F.bob)).alert)
        let failed = step(running, .containmentFailed(id: "C-1", phase: .execute, reason: "network N_1 has no appliance"))
        #expect(status(failed) == .failed)
        #expect(failed.alert?.containments.first?.failure == "network N_1 has no appliance")
        let retried = step(try #require(failed.alert), decide(.retry, by: Self.carol))
        #expect(status(retried) == .executing)
        #expect(retried.effects.contains(.executeContainment(id: "C-1")))
        let retriedAlert = try #require(retried.alert)
        running = try #require(step(retriedAlert, .containmentSucceeded(id: "C-1", phase: .execute, report: "ok")).alert)
        let unblocked = step(running, decide(.unblock, by: F.bob))
        #expect(status(unblocked) == .releasing)
        #expect(unblocked.effects.contains(.cancelTimer(.containmentExpiry("C-1"))))
        #expect(unblocked.effects.contains(.releaseContainment(id: "C-1")))
        let releaseFailed = step(try #require(unblocked.alert), .containmentFailed(id: "C-1", phase: .release, reason: "timeout"))
        #expect(releaseFailed.alert?.containments.first?.failedPhase == .release)
        let retryRelease = step(try #require(releaseFailed.alert), decide(.retry, by: F.bob))
        #expect(retryRelease.effects.contains(.releaseContainment(id: "C-1")))
        #expect(!retryRelease.effects.contains(.executeContainment(id: "C-1")))
    }

    @Test func unknownContainmentIsRejected() {
        let click = step(F.openAlert(), decide(.approve, by: F.bob, id: "C-404"))
        guard case .rejected = click.outcome else {
            Issue.record("expected rejected")
            return
        }
    }

    @Test func messageShowsContainmentButtonsWithinLimits() throws {
        let alert = try #require(
            step(F.openAlert(playbook: F.playbook(actions: [ContainmentAction(kind: .blockIP, approvals: 1, ttl: 3_600)])), request()).alert)
        let blocks = AlertMessage.render(alert).blocks
        let actionBlocks = blocks.arrayValue?.filter { $0["type"] == "actions" } ?? []
        let ids = actionBlocks.flatMap { $0["elements"]?.arrayValue ?? [] }.compactMap { $0["action_id"]?.stringValue }
        #expect(ids.contains("approve") && ids.contains("reject"))
        let values = actionBlocks.first { $0["block_id"] == "containment_C-1" }?["elements"]?.arrayValue?.compactMap { $0["value"]?.stringValue }
        #expect(values == ["C-1", "C-1"])
        var many = alert
        for index in 0..<30 {
            many.containments.append(
                Containment(
                    id: "C-x\(index)", kind: .blockIP, target: "198.51.100.\(index)", reason: String(repeating: "r", count: 2_000), ttl: 60,
                    requestedBy: F.alice, requestedAt: F.t0, approvalsRequired: 1, approvals: [], status: index % 2 == 0 ? .released : .active,
                    dryRun: false))
        }
        let big = AlertMessage.render(many).blocks.arrayValue ?? []
        #expect(big.count <= 50)
        for block in big where block["type"] == "section" {
            #expect((block["text"]?["text"]?.stringValue?.count ?? 0) <= 3_000)
        }
    }

    static let badTargets = [
        "999.1.1.1", "203.0.113.7/33", "203.0.113.0/8", "203.0.113.7/24", "127.0.0.1", "0.0.0.0", "224.0.0.1", "169.254.1.1", "::1", "fe80::1",
        "ff02::1", "not-an-ip", "203.0.113.7/abc", "",
    ]

    @Test(arguments: badTargets)
    func badBlockTargetsAreRefusedWithAReason(_ text: String) {
        #expect(throws: BlockTarget.Invalid.self) { try BlockTarget.ip(text) }
    }

    @Test func blockTargetsSayWhatWillHappen() throws {
        #expect(try BlockTarget.ip("203.0.113.7") == ("203.0.113.7", ""))
        #expect(try BlockTarget.ip(" 203.0.113.0/24 ").target == "203.0.113.0/24")
        let privateNote = try BlockTarget.ip("10.1.2.3").note
        #expect(privateNote.contains("private address"))
        let v6 = try BlockTarget.ip("2001:DB8::7")
        #expect(v6.target == "2001:db8::7")
        #expect(v6.note.contains("IPv6"))
    }

    @Test func timerKindsRoundTrip() {
        for kind in [TimerKind.ackTimeout, .containmentExpiry("C-7K3M9Q2X")] {
            #expect(TimerKind(rawValue: kind.rawValue) == kind)
        }
        #expect(TimerKind(rawValue: "expiry:") == nil)
        #expect(TimerKind(rawValue: "nonsense") == nil)
    }
}
