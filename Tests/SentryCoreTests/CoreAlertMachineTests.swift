import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

private typealias F = CoreFixtures

/// Scenario scripts of the pure alert machine: events in, (alert, outcome, effects, audit) out.
@Suite struct CoreAlertMachineTests {
    private func handle(_ alert: Alert?, _ event: AlertEvent, at seconds: TimeInterval = 0, id: String = "A1") -> Transition {
        AlertMachine.handle(alert, event, alertID: id, now: F.t0.addingTimeInterval(seconds))
    }

    private func click(_ action: AlertAction, by user: String = F.alice, mayAct: Bool = true) -> AlertEvent {
        .clicked(Click(action: action, userID: user, mayAct: mayAct, responseURL: "https://hooks.slack.com/actions/T1/1/x"))
    }

    // MARK: Creation

    @Test func detectionCreatesAnOpenAlertThatIsPostedAndTimed() throws {
        let detection = F.detection(id: "engine-1", severity: .critical, title: "Spray from 203.0.113.7", occurredAt: F.t0.addingTimeInterval(-30))
        let playbook = F.playbook(ackTimeout: 900, groupingWindow: 7_200, severity: .low)
        let transition = handle(nil, .detectionReceived(detection, playbook: playbook, channel: F.channel), id: "A9")

        #expect(transition.outcome == .applied)
        #expect(transition.effects == [.postAlert, .scheduleTimer(.ackTimeout, at: F.t0.addingTimeInterval(900))])
        let alert = try #require(transition.alert)
        #expect(alert.id == "A9")
        #expect(alert.playbookID == playbook.id)
        #expect(alert.status == .open)
        #expect(alert.severity == .critical)
        #expect(alert.title == "Spray from 203.0.113.7")
        #expect(alert.channel == F.channel)
        #expect(alert.occurrences == 1)
        #expect(alert.escalations == 0)
        #expect(alert.createdAt == F.t0)
        #expect(alert.lastOccurredAt == F.t0.addingTimeInterval(-30))
        #expect(alert.groupKey == "slack.failed_logins_by_ip|ip=203.0.113.7")
        #expect(alert.groupUntil == F.t0.addingTimeInterval(7_200))
        #expect(alert.message == nil)
        #expect(alert.policy == AlertPolicy(playbook))
        let audit = try #require(transition.audit)
        #expect(audit.action == "alert.created")
        #expect(audit.actor == "detection:engine-1")
    }

    @Test func detectionWithoutSeverityOrTitleTakesThePlaybooks() throws {
        let playbook = F.playbook(ackTimeout: nil, severity: .high)
        let transition = handle(nil, .detectionReceived(F.detection(), playbook: playbook, channel: F.channel))
        let alert = try #require(transition.alert)
        #expect(alert.severity == .high)
        #expect(alert.title == playbook.title)
        #expect(alert.lastOccurredAt == F.t0)
        // No acknowledgement timeout: nothing to schedule.
        #expect(transition.effects == [.postAlert])
    }

    @Test func detectionReceivedForAnExistingAlertIsIgnored() {
        let alert = F.openAlert()
        let transition = handle(alert, .detectionReceived(F.detection(id: "det-2"), playbook: F.playbook(), channel: F.channel), at: 10)
        #expect(transition.alert == alert)
        #expect(transition.effects.isEmpty)
        #expect(transition.audit == nil)
        guard case .ignored = transition.outcome else {
            Issue.record("expected ignored, got \(transition.outcome)")
            return
        }
    }

    // MARK: Grouping

    @Test func groupedDetectionsCountAndOnlyRaiseSeverity() throws {
        let alert = F.openAlert(detection: F.detection(severity: .medium))

        let second = handle(alert, .detectionGrouped(F.detection(id: "det-2", severity: .high, occurredAt: F.t0.addingTimeInterval(50))), at: 60)
        #expect(second.outcome == .applied)
        #expect(second.effects == [.updateMessage])
        let afterSecond = try #require(second.alert)
        #expect(afterSecond.occurrences == 2)
        #expect(afterSecond.severity == .high)
        #expect(afterSecond.lastOccurredAt == F.t0.addingTimeInterval(50))
        #expect(afterSecond.updatedAt == F.t0.addingTimeInterval(60))
        #expect(afterSecond.status == .open)
        #expect(second.audit?.action == "alert.grouped")
        #expect(second.audit?.actor == "detection:det-2")

        // A lower severity and an older occurrence change neither.
        let third = handle(afterSecond, .detectionGrouped(F.detection(id: "det-3", severity: .low, occurredAt: F.t0.addingTimeInterval(10))), at: 70)
        let afterThird = try #require(third.alert)
        #expect(afterThird.occurrences == 3)
        #expect(afterThird.severity == .high)
        #expect(afterThird.lastOccurredAt == F.t0.addingTimeInterval(50))
        #expect(third.effects == [.updateMessage])

        // No severity at all keeps the current one.
        let fourth = handle(afterThird, .detectionGrouped(F.detection(id: "det-4")), at: 80)
        #expect(fourth.alert?.severity == .high)
        #expect(fourth.alert?.occurrences == 4)
        #expect(fourth.alert?.lastOccurredAt == F.t0.addingTimeInterval(80))
    }

    @Test func groupingOntoAnAcknowledgedAlertCounts() throws {
        let alert = F.alert(.acknowledged)
        let transition = handle(alert, .detectionGrouped(F.detection(id: "det-2")), at: 100)
        #expect(transition.outcome == .applied)
        #expect(transition.alert?.occurrences == 2)
        #expect(transition.alert?.status == .acknowledged)
    }

    @Test(arguments: [AlertStatus.resolved, .dismissed])
    func groupingOntoAFinishedAlertIsIgnored(status: AlertStatus) {
        let alert = F.alert(status)
        let transition = handle(alert, .detectionGrouped(F.detection(id: "det-2", severity: .critical)), at: 300)
        #expect(transition.alert == alert)
        #expect(transition.effects.isEmpty)
        #expect(transition.audit == nil)
        guard case .ignored = transition.outcome else {
            Issue.record("expected ignored, got \(transition.outcome)")
            return
        }
    }

    // MARK: Clicks

    @Test(arguments: [
        (AlertAction.ack, AlertStatus.acknowledged, ":eyes:"),
        (.resolve, .resolved, ":white_check_mark:"),
        (.dismiss, .dismissed, ":no_entry_sign:"),
    ])
    func responderActsOnAnOpenAlert(action: AlertAction, status: AlertStatus, emoji: String) throws {
        let alert = F.openAlert()
        let transition = handle(alert, click(action), at: 120)
        #expect(transition.outcome == .applied)
        let next = try #require(transition.alert)
        #expect(next.status == status)
        #expect(next.updatedAt == F.t0.addingTimeInterval(120))
        if action == .ack {
            #expect(next.acknowledgedBy == F.alice)
            #expect(next.acknowledgedAt == F.t0.addingTimeInterval(120))
            #expect(next.closedBy == nil)
        } else {
            #expect(next.closedBy == F.alice)
            #expect(next.closedAt == F.t0.addingTimeInterval(120))
            #expect(next.acknowledgedBy == nil)
        }
        #expect(transition.effects.map(\.coreKind) == ["updateMessage", "replyInThread", "cancelTimer"])
        #expect(transition.effects.last == .cancelTimer(.ackTimeout))
        let reply = try #require(transition.effects[1].coreText)
        #expect(reply.hasPrefix(emoji))
        #expect(reply.contains("<@\(F.alice)>"))
        #expect(transition.audit == AuditRecord(action: "alert.\(status.rawValue)", actor: F.alice, detail: "from open"))
    }

    @Test(arguments: [AlertAction.resolve, .dismiss])
    func acknowledgedAlertCanStillBeClosedWithoutCancellingATimerAgain(action: AlertAction) throws {
        let alert = F.alert(.acknowledged)
        let transition = handle(alert, click(action, by: F.bob), at: 500)
        #expect(transition.outcome == .applied)
        #expect(transition.alert?.status == (action == .resolve ? .resolved : .dismissed))
        #expect(transition.alert?.closedBy == F.bob)
        // Who acknowledged stays on record.
        #expect(transition.alert?.acknowledgedBy == F.alice)
        #expect(transition.effects.map(\.coreKind) == ["updateMessage", "replyInThread"])
        #expect(transition.audit?.detail == "from acknowledged")
    }

    @Test func secondAcknowledgementIsIgnoredAndTellsWhoAcknowledged() throws {
        let alert = F.alert(.acknowledged)
        let transition = handle(alert, click(.ack, by: F.bob), at: 200)
        #expect(transition.alert == alert)
        #expect(transition.audit == nil)
        guard case .ignored = transition.outcome else {
            Issue.record("expected ignored, got \(transition.outcome)")
            return
        }
        let effect = try #require(transition.effects.first)
        #expect(transition.effects.count == 1)
        guard case .tellUser(let user, let text, let responseURL) = effect else {
            Issue.record("expected tellUser, got \(effect)")
            return
        }
        #expect(user == F.bob)
        #expect(text.contains("<@\(F.alice)>"))
        #expect(responseURL == "https://hooks.slack.com/actions/T1/1/x")
    }

    @Test(arguments: [AlertStatus.resolved, .dismissed], AlertAction.allCases)
    func anyClickOnAFinishedAlertIsIgnoredWithAnAnswer(status: AlertStatus, action: AlertAction) throws {
        let alert = F.alert(status)
        let transition = handle(alert, click(action, by: F.bob), at: 600)
        #expect(transition.alert == alert)
        #expect(transition.audit == nil)
        guard case .ignored = transition.outcome else {
            Issue.record("expected ignored, got \(transition.outcome)")
            return
        }
        #expect(transition.effects.map(\.coreKind) == ["tellUser"])
        guard case .tellUser(let user, let text, _) = try #require(transition.effects.first) else { return }
        #expect(user == F.bob)
        #expect(text.contains(status.rawValue))
        #expect(text.contains("<@\(F.alice)>"))
    }

    @Test(arguments: AlertStatus.allCases, AlertAction.allCases)
    func nonResponderIsRejectedAndNothingChanges(status: AlertStatus, action: AlertAction) throws {
        let alert = F.alert(status)
        let transition = handle(alert, click(action, by: F.bob, mayAct: false), at: 30)
        #expect(transition.alert == alert)
        guard case .rejected = transition.outcome else {
            Issue.record("expected rejected, got \(transition.outcome)")
            return
        }
        #expect(transition.effects.map(\.coreKind) == ["tellUser"])
        guard case .tellUser(let user, _, let responseURL) = try #require(transition.effects.first) else { return }
        #expect(user == F.bob)
        #expect(responseURL == "https://hooks.slack.com/actions/T1/1/x")
        let audit = try #require(transition.audit)
        #expect(audit.action == "click.refused")
        #expect(audit.actor == F.bob)
        #expect(audit.detail.contains(action.rawValue))
    }

    @Test(arguments: AlertAction.allCases)
    func clickOnAnUnknownAlertIsRejectedWithAnAnswer(action: AlertAction) throws {
        let transition = handle(nil, click(action, by: F.bob), id: "A404")
        #expect(transition.alert == nil)
        #expect(transition.audit == nil)
        guard case .rejected = transition.outcome else {
            Issue.record("expected rejected, got \(transition.outcome)")
            return
        }
        #expect(transition.effects.count == 1)
        guard case .tellUser(let user, let text, let responseURL) = try #require(transition.effects.first) else {
            Issue.record("expected tellUser")
            return
        }
        #expect(user == F.bob)
        #expect(text.contains("A404"))
        #expect(responseURL == "https://hooks.slack.com/actions/T1/1/x")
    }

    @Test(arguments: [
        AlertEvent.detectionGrouped(CoreFixtures.detection()),
        .messagePosted(MessageRef(channel: CoreFixtures.channel, ts: "1.2")),
        .postFailed(reason: "channel_not_found"),
        .timerFired(.ackTimeout),
    ])
    func otherEventsForAnUnknownAlertAreRejectedSilently(event: AlertEvent) {
        let transition = handle(nil, event, id: "A404")
        #expect(transition.alert == nil)
        #expect(transition.effects.isEmpty)
        #expect(transition.audit == nil)
        guard case .rejected = transition.outcome else {
            Issue.record("expected rejected, got \(transition.outcome)")
            return
        }
    }

    // MARK: Posting

    @Test func messagePostedIsRecordedOnceAndClearsAPostFailure() throws {
        let failed = try #require(handle(F.openAlert(), .postFailed(reason: "ratelimited"), at: 1).alert)
        #expect(failed.postFailure == "ratelimited")

        let ref = MessageRef(channel: F.channel, ts: "1790000002.000100")
        let posted = handle(failed, .messagePosted(ref), at: 2)
        #expect(posted.outcome == .applied)
        #expect(posted.effects.isEmpty)
        let alert = try #require(posted.alert)
        #expect(alert.message == ref)
        #expect(alert.postFailure == nil)
        #expect(posted.audit?.action == "message.posted")

        // Slack retries and a duplicate post are ignored; the first ts stays.
        for repeated in [ref, MessageRef(channel: F.channel, ts: "1790000003.000200")] {
            let again = handle(alert, .messagePosted(repeated), at: 3)
            #expect(again.alert == alert)
            #expect(again.effects.isEmpty)
            #expect(again.audit == nil)
            guard case .ignored = again.outcome else {
                Issue.record("expected ignored, got \(again.outcome)")
                continue
            }
        }
    }

    @Test func postFailedRecordsTheReason() throws {
        let alert = F.openAlert()
        let transition = handle(alert, .postFailed(reason: "channel_not_found"), at: 5)
        #expect(transition.outcome == .applied)
        #expect(transition.effects.isEmpty)
        #expect(transition.alert?.postFailure == "channel_not_found")
        #expect(transition.alert?.status == .open)
        #expect(transition.audit == AuditRecord(action: "message.failed", actor: "sentry", detail: "channel_not_found"))
    }

    // MARK: Escalation

    @Test func ackTimeoutEscalatesTwiceThenStops() throws {
        let playbook = F.playbook(ackTimeout: 900, escalation: Escalation(mention: ["here", "S0ONCALL"], repeatCount: 2))
        let alert = F.openAlert(playbook: playbook)

        let first = handle(alert, .timerFired(.ackTimeout), at: 900)
        #expect(first.outcome == .applied)
        let once = try #require(first.alert)
        #expect(once.escalations == 1)
        #expect(first.effects.map(\.coreKind) == ["replyInThread", "updateMessage", "scheduleTimer"])
        #expect(first.effects.last == .scheduleTimer(.ackTimeout, at: F.t0.addingTimeInterval(1_800)))
        let reply = try #require(first.effects.first?.coreText)
        #expect(reply.contains("<!here>"))
        #expect(reply.contains("<!subteam^S0ONCALL>"))
        #expect(reply.contains("1 of 2"))
        #expect(first.audit?.action == "alert.escalated")

        let second = handle(once, .timerFired(.ackTimeout), at: 1_800)
        #expect(second.outcome == .applied)
        let twice = try #require(second.alert)
        #expect(twice.escalations == 2)
        #expect(second.effects.map(\.coreKind) == ["replyInThread", "updateMessage"])
        #expect(second.effects.first?.coreText?.contains("2 of 2") == true)

        let third = handle(twice, .timerFired(.ackTimeout), at: 2_700)
        #expect(third.alert == twice)
        #expect(third.effects.isEmpty)
        #expect(third.audit == nil)
        guard case .ignored = third.outcome else {
            Issue.record("expected ignored, got \(third.outcome)")
            return
        }
    }

    @Test func ackTimeoutWithoutEscalationPolicyEscalatesOnce() throws {
        let alert = F.openAlert(playbook: F.playbook(ackTimeout: 600, escalation: nil))
        let first = handle(alert, .timerFired(.ackTimeout), at: 600)
        #expect(first.alert?.escalations == 1)
        #expect(first.effects.map(\.coreKind) == ["replyInThread", "updateMessage"])
        let once: Alert = try #require(first.alert)
        let second = handle(once, .timerFired(.ackTimeout), at: 1_200)
        guard case .ignored = second.outcome else {
            Issue.record("expected ignored, got \(second.outcome)")
            return
        }
    }

    @Test func escalationChannelGetsANoticeInsteadOfAThreadReply() throws {
        let playbook = F.playbook(ackTimeout: 900, escalation: Escalation(mention: ["U0ONCALL1"], channel: "C0ESCALATE", repeatCount: 1))
        let alert = F.openAlert(playbook: playbook)
        let transition = handle(alert, .timerFired(.ackTimeout), at: 900)
        #expect(transition.outcome == .applied)
        #expect(transition.effects.map(\.coreKind) == ["postNotice", "updateMessage"])
        guard case .postNotice(let channel, let text) = try #require(transition.effects.first) else { return }
        #expect(channel == "C0ESCALATE")
        #expect(text.contains("<@U0ONCALL1>"))
        #expect(text.contains(alert.id))
        #expect(text.contains("<#\(F.channel)>"))
    }

    @Test(arguments: [AlertStatus.acknowledged, .resolved, .dismissed])
    func timerAfterTheAlertLeftOpenIsIgnored(status: AlertStatus) {
        let alert = F.alert(status, playbook: F.playbook(ackTimeout: 900, escalation: Escalation(mention: ["here"], repeatCount: 3)))
        let transition = handle(alert, .timerFired(.ackTimeout), at: 900)
        #expect(transition.alert == alert)
        #expect(transition.effects.isEmpty)
        #expect(transition.audit == nil)
        guard case .ignored = transition.outcome else {
            Issue.record("expected ignored, got \(transition.outcome)")
            return
        }
    }

    @Test func timerWithoutAnAckTimeoutInThePolicyIsIgnored() {
        let alert = F.openAlert(playbook: F.playbook(ackTimeout: nil))
        let transition = handle(alert, .timerFired(.ackTimeout), at: 900)
        #expect(transition.alert == alert)
        guard case .ignored = transition.outcome else {
            Issue.record("expected ignored, got \(transition.outcome)")
            return
        }
    }

    // MARK: Whatever is refused leaves the alert as it was

    static let refusals: [(String, Alert, AlertEvent)] = {
        let open = CoreFixtures.openAlert()
        let acknowledged = CoreFixtures.alert(.acknowledged)
        let resolved = CoreFixtures.alert(.resolved)
        let dismissed = CoreFixtures.alert(.dismissed)
        var posted = open
        posted.message = MessageRef(channel: CoreFixtures.channel, ts: "1.1")
        let click = { (action: AlertAction, mayAct: Bool) in
            AlertEvent.clicked(Click(action: action, userID: CoreFixtures.bob, mayAct: mayAct))
        }
        return [
            (
                "detection on existing", open,
                .detectionReceived(CoreFixtures.detection(id: "x"), playbook: CoreFixtures.playbook(), channel: CoreFixtures.channel)
            ),
            ("group on resolved", resolved, .detectionGrouped(CoreFixtures.detection(id: "x", severity: .critical))),
            ("group on dismissed", dismissed, .detectionGrouped(CoreFixtures.detection(id: "x", severity: .critical))),
            ("ack twice", acknowledged, click(.ack, true)),
            ("resolve resolved", resolved, click(.resolve, true)),
            ("dismiss dismissed", dismissed, click(.dismiss, true)),
            ("ack resolved", resolved, click(.ack, true)),
            ("non-responder ack", open, click(.ack, false)),
            ("non-responder resolve", acknowledged, click(.resolve, false)),
            ("posted twice", posted, .messagePosted(MessageRef(channel: CoreFixtures.channel, ts: "1.1"))),
            ("posted again elsewhere", posted, .messagePosted(MessageRef(channel: CoreFixtures.channel, ts: "2.2"))),
            ("timer on acknowledged", acknowledged, .timerFired(.ackTimeout)),
            ("timer on resolved", resolved, .timerFired(.ackTimeout)),
        ]
    }()

    @Test(arguments: refusals)
    func refusedEventsLeaveTheAlertAsItWas(name: String, alert: Alert, event: AlertEvent) {
        let transition = handle(alert, event, at: 3_600)
        #expect(transition.outcome != .applied, "\(name)")
        #expect(transition.alert == alert, "\(name)")
        #expect(
            !transition.effects.contains {
                ["postAlert", "updateMessage", "replyInThread", "postNotice", "scheduleTimer", "cancelTimer"].contains($0.coreKind)
            }, "\(name)")
    }
}
