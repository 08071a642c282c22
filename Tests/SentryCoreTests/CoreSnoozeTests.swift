import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// Snooze in the machine: who may, what is quiet while it holds, and what the end says.
@Suite struct CoreSnoozeTests {
    typealias F = CoreFixtures

    private func at(_ seconds: TimeInterval) -> Date { F.t0.addingTimeInterval(seconds) }

    private func snooze(_ alert: Alert, by user: String = F.alice, mayAct: Bool = true, for duration: Int = 3_600, at time: TimeInterval = 10)
        -> Transition
    {
        AlertMachine.handle(
            alert,
            .snoozeRequested(SnoozeRequest(userID: user, mayAct: mayAct, duration: duration, reason: "known scanner", responseURL: "https://r")),
            alertID: alert.id, now: at(time))
    }

    private func grouped(_ alert: Alert, _ id: String, at time: TimeInterval) -> Transition {
        AlertMachine.handle(alert, .detectionGrouped(F.detection(id: id)), alertID: alert.id, now: at(time))
    }

    @Test func aResponderSnoozesAnOpenAlert() throws {
        let transition = snooze(F.openAlert())
        #expect(transition.outcome == .applied)
        let snoozed = try #require(transition.alert?.snooze)
        #expect(snoozed == Snooze(by: F.alice, reason: "known scanner", since: at(10), until: at(3_610)))
        #expect(transition.effects.contains(.scheduleTimer(.snoozeExpiry, at: at(3_610))))
        #expect(transition.effects.contains(.cancelTimer(.ackTimeout)))
        #expect(transition.effects.contains(.updateMessage))
        #expect(
            transition.effects.contains {
                if case .replyInThread(let text) = $0 { text.contains("snoozed this alert until") && text.contains("known scanner") } else { false }
            })
        #expect(transition.audit?.action == "alert.snoozed")
        #expect(transition.audit?.actor == F.alice)
    }

    @Test func aNonResponderIsRefusedOnTheRecord() {
        let alert = F.openAlert()
        let transition = snooze(alert, by: F.bob, mayAct: false)
        guard case .rejected = transition.outcome else {
            Issue.record("expected a refusal, got \(transition.outcome)")
            return
        }
        #expect(transition.alert == alert)
        #expect(transition.audit?.action == "snooze.refused")
        #expect(transition.effects.contains { if case .tellUser(F.bob, _, "https://r") = $0 { true } else { false } })
    }

    @Test(arguments: [AlertStatus.resolved, .dismissed])
    func aFinishedAlertCannotBeSnoozed(status: AlertStatus) {
        let transition = snooze(F.alert(status))
        guard case .ignored = transition.outcome else {
            Issue.record("expected ignored, got \(transition.outcome)")
            return
        }
        #expect(transition.audit == nil)
    }

    @Test func detectionsWhileSnoozedAreCountedAndNothingIsSaid() throws {
        let quiet = try #require(snooze(F.openAlert()).alert)
        let first = grouped(quiet, "d2", at: 20)
        #expect(first.outcome == .applied)
        #expect(first.effects.isEmpty)
        #expect(first.alert?.occurrences == 2)
        #expect(first.alert?.snooze?.suppressed == 1)
        let once = try #require(first.alert)
        let second = grouped(once, "d3", at: 30)
        #expect(second.alert?.snooze?.suppressed == 2)
        #expect(second.alert?.occurrences == 3)
        // After the snooze the alert speaks again.
        let twice = try #require(second.alert)
        let later = grouped(twice, "d4", at: 4_000)
        #expect(later.effects == [.updateMessage])
    }

    @Test func noEscalationWhileSnoozed() throws {
        let quiet = try #require(snooze(F.openAlert()).alert)
        let fired = AlertMachine.handle(quiet, .timerFired(.ackTimeout), alertID: quiet.id, now: at(900))
        guard case .ignored(let why) = fired.outcome else {
            Issue.record("expected ignored, got \(fired.outcome)")
            return
        }
        #expect(why.contains("snoozed"))
        #expect(fired.effects.isEmpty)
    }

    @Test func atExpiryTheThreadSaysHowManyArrivedAndEscalationResumes() throws {
        var alert = try #require(snooze(F.openAlert()).alert)
        for n in 0..<3 {
            let next = grouped(alert, "d\(n)", at: 20 + Double(n))
            alert = try #require(next.alert)
        }
        let expired = AlertMachine.handle(alert, .timerFired(.snoozeExpiry), alertID: alert.id, now: at(3_610))
        #expect(expired.outcome == .applied)
        #expect(expired.alert?.snooze == nil)
        #expect(expired.effects.contains { if case .replyInThread(let text) = $0 { text.contains("3 detections arrived") } else { false } })
        #expect(expired.effects.contains(.scheduleTimer(.ackTimeout, at: at(3_610 + 900))))
        #expect(expired.audit?.action == "alert.snooze_expired")
        #expect(expired.audit?.detail == "suppressed 3")
    }

    @Test func aTimerReadBackAHairEarlyStillEndsTheSnooze() throws {
        // Stores keep milliseconds: a timer due at 3,610.0004 s reads back as due at 3,610.000 and fires then.
        let alert = try #require(snooze(F.openAlert()).alert)
        let early = AlertMachine.handle(alert, .timerFired(.snoozeExpiry), alertID: alert.id, now: at(3_610 - 0.0004))
        #expect(early.outcome == .applied)
        #expect(early.alert?.snooze == nil)
        // A timer a whole minute early (a moved snooze) is still no end.
        let stale = AlertMachine.handle(alert, .timerFired(.snoozeExpiry), alertID: alert.id, now: at(3_550))
        #expect(stale.outcome != .applied)
    }

    @Test func anEarlierSnoozesTimerDoesNotEndALaterOne() throws {
        let first = try #require(snooze(F.openAlert(), for: 600).alert)
        let longer = snooze(first, for: 7_200, at: 100)
        #expect(longer.alert?.snooze?.until == at(7_300))
        #expect(longer.alert?.snooze?.since == at(10))
        let moved = try #require(longer.alert)
        let stale = AlertMachine.handle(moved, .timerFired(.snoozeExpiry), alertID: first.id, now: at(610))
        guard case .ignored = stale.outcome else {
            Issue.record("expected ignored, got \(stale.outcome)")
            return
        }
    }

    @Test func theSameSnoozeSentTwiceIsDoneOnceAndAChangedOneIsNot() throws {
        let snoozed = try #require(snooze(F.openAlert()).alert)
        // The same form again, seconds later: nothing new is said, the end does not move.
        let again = snooze(snoozed, at: 15)
        guard case .ignored = again.outcome else {
            Issue.record("expected ignored, got \(again.outcome)")
            return
        }
        #expect(again.effects.isEmpty && again.audit == nil)
        // A longer one, or one by someone else, is a new decision.
        #expect(snooze(snoozed, for: 7_200, at: 15).outcome == .applied)
        #expect(snooze(snoozed, by: F.bob, at: 15).outcome == .applied)
        // Asked again an hour later for another hour: a new snooze too.
        #expect(snooze(snoozed, at: 1_800).outcome == .applied)
    }

    @Test func unsnoozeEndsItNowForResponders() throws {
        let quiet = try #require(snooze(F.openAlert()).alert)
        let refused = AlertMachine.handle(quiet, .unsnoozeRequested(Unsnooze(userID: F.bob, mayAct: false)), alertID: quiet.id, now: at(60))
        guard case .rejected = refused.outcome else {
            Issue.record("expected a refusal, got \(refused.outcome)")
            return
        }
        #expect(refused.audit?.action == "snooze.refused")
        let ended = AlertMachine.handle(quiet, .unsnoozeRequested(Unsnooze(userID: F.bob, mayAct: true)), alertID: quiet.id, now: at(60))
        #expect(ended.outcome == .applied)
        #expect(ended.alert?.snooze == nil)
        #expect(ended.effects.contains(.cancelTimer(.snoozeExpiry)))
        #expect(
            ended.effects.contains {
                if case .replyInThread(let text) = $0 { text.contains("ended the snooze") && text.contains("no detection arrived") } else { false }
            })
        #expect(ended.audit?.action == "alert.unsnoozed")
        let awake = try #require(ended.alert)
        let again = AlertMachine.handle(awake, .unsnoozeRequested(Unsnooze(userID: F.bob, mayAct: true)), alertID: quiet.id, now: at(61))
        guard case .ignored = again.outcome else {
            Issue.record("expected ignored, got \(again.outcome)")
            return
        }
    }

    @Test func resolvingASnoozedAlertEndsTheSnooze() throws {
        let quiet = try #require(snooze(F.openAlert()).alert)
        let resolved = AlertMachine.handle(quiet, .clicked(Click(action: .resolve, userID: F.alice, mayAct: true)), alertID: quiet.id, now: at(60))
        #expect(resolved.alert?.status == .resolved)
        #expect(resolved.alert?.snooze == nil)
        #expect(resolved.effects.contains(.cancelTimer(.snoozeExpiry)))
    }

    @Test func aSnoozedAlertKeepsItsDetectionsPastItsGroupingWindow() throws {
        let quiet = try #require(snooze(F.openAlert(), for: 86_400).alert)
        // The grouping window (1 h) is over, the snooze (1 day) is not.
        #expect(AlertGrouping.target(for: F.detection(id: "d9"), among: [quiet], now: at(7_200))?.id == quiet.id)
        #expect(AlertGrouping.target(for: F.detection(id: "d9"), among: [quiet], now: at(86_500)) == nil)
    }

    @Test func theMessageSaysItIsSnoozedAndOffersUnsnooze() throws {
        let snoozed = try #require(snooze(F.openAlert()).alert)
        let quiet = try #require(grouped(snoozed, "d2", at: 20).alert)
        let rendered = Transcript.text(AlertMessage.render(quiet).blocks)
        #expect(rendered.contains("snoozed until"))
        #expect(rendered.contains("1 detection since"))
        #expect(rendered.contains("\"action_id\":\"unsnooze\""))
        #expect(!rendered.contains("\"action_id\":\"snooze\""))
        #expect(Transcript.text(AlertMessage.render(F.openAlert()).blocks).contains("\"action_id\":\"snooze\""))
    }

    // MARK: The form

    private func values(_ duration: String, _ reason: String) -> JSONValue {
        [
            SnoozeModal.durationBlock: [SnoozeModal.durationAction: ["value": .string(duration)]],
            SnoozeModal.reasonBlock: [SnoozeModal.reasonAction: ["value": .string(reason)]],
        ]
    }

    @Test(arguments: [
        ("4h", "known scanner", nil as String?),
        ("30s", "known scanner", SnoozeModal.durationBlock),
        ("31d", "known scanner", SnoozeModal.durationBlock),
        ("soon", "known scanner", SnoozeModal.durationBlock),
        ("4h", " x ", SnoozeModal.reasonBlock),
    ])
    func theFormIsReadWithinTheBounds(duration: String, reason: String, failing: String?) {
        let read = SnoozeModal.read(values: values(duration, reason), minDuration: 60, maxDuration: 30 * 86_400)
        switch read {
        case .success(let input):
            #expect(failing == nil)
            #expect(input.duration == 4 * 3_600)
            #expect(input.reason == reason)
        case .failure(let errors):
            #expect(failing != nil && errors.byBlock[failing!] != nil)
        }
    }

    @Test func theFormCarriesItsAlertAndPassesBlockKitChecks() throws {
        let view = SnoozeModal.view(alert: F.openAlert(), minDuration: 60, maxDuration: 30 * 86_400)
        #expect(view["callback_id"] == .string(SnoozeModal.callbackID))
        #expect(SnoozeModal.alertID(metadata: try #require(view["private_metadata"]?.stringValue)) == "A1")
        #expect(BlockKitCheck.viewProblem(view) == nil)
    }
}

extension CoreSnoozeTests {
    @Test func aSnoozeWhoseEndIsDueButNotFiredStillEndsWithItsCount() throws {
        var alert = try #require(
            AlertMachine.handle(
                F.openAlert(), .snoozeRequested(SnoozeRequest(userID: F.alice, mayAct: true, duration: 600, reason: "scanner")), alertID: "A1",
                now: F.t0
            ).alert)
        alert.snooze?.suppressed = 4
        // Past the end, before the scheduler's pass: Unsnooze still ends it and says what came.
        let ended = AlertMachine.handle(
            alert, .unsnoozeRequested(Unsnooze(userID: F.bob, mayAct: true)), alertID: "A1", now: F.t0.addingTimeInterval(700))
        #expect(ended.outcome == .applied)
        #expect(ended.effects.contains { if case .replyInThread(let text) = $0 { text.contains("4 detections arrived") } else { false } })
        // And snoozing again then keeps the count.
        let again = AlertMachine.handle(
            alert, .snoozeRequested(SnoozeRequest(userID: F.bob, mayAct: true, duration: 600, reason: "again")), alertID: "A1",
            now: F.t0.addingTimeInterval(700))
        #expect(again.alert?.snooze?.suppressed == 4)
        #expect(again.alert?.snooze?.since == F.t0)
    }
}
