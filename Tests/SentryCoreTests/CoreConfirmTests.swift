import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// Asking the affected user in the machine: who is asked, what each answer does, and every late, wrong or
/// repeated press.
@Suite struct CoreConfirmTests {
    typealias F = CoreFixtures
    static let carol = "U0CAROL1"
    static let timeout = 1_800

    static func playbook(escalation: Escalation? = Escalation(mention: ["S0ONCALL"]), confirm: ConfirmSettings? = ConfirmSettings(timeout: timeout))
        -> Playbook
    {
        Playbook(
            id: "downloads", title: "Maximum daily downloads exceeded", detection: "slack.max_daily_download", severity: .high,
            ackTimeout: 3_600, escalation: escalation, confirmWithSubject: confirm)
    }

    static func detection(subject: Subject = Subject(slackUserID: carol)) -> Detection {
        Detection(
            id: "det-dl", detection: "slack.max_daily_download", severity: nil, title: "\(carol) downloaded 212 files today",
            summary: nil, subject: subject, evidence: ["count": 212], occurredAt: nil)
    }

    static func created(_ playbook: Playbook = CoreConfirmTests.playbook(), subject: Subject = Subject(slackUserID: carol)) -> Transition {
        AlertMachine.handle(nil, .detectionReceived(detection(subject: subject), playbook: playbook, channel: F.channel), alertID: "A1", now: F.t0)
    }

    private func at(_ seconds: TimeInterval) -> Date { F.t0.addingTimeInterval(seconds) }

    /// An alert whose question is in the user's DMs.
    static func asked(_ playbook: Playbook = CoreConfirmTests.playbook()) -> Alert {
        let alert = created(playbook).alert!
        return AlertMachine.handle(alert, .subjectAsked(MessageRef(channel: "D0CAROL1", ts: "1.1")), alertID: "A1", now: F.t0.addingTimeInterval(2))
            .alert!
    }

    private func answer(_ alert: Alert, _ answer: ConfirmAnswer, by user: String = carol, at time: TimeInterval = 60) -> Transition {
        AlertMachine.handle(
            alert, .subjectAnswered(ConfirmClick(answer: answer, userID: user, responseURL: "https://r", responders: [F.alice, "S0SEC"])),
            alertID: alert.id, now: at(time))
    }

    private func replies(_ transition: Transition) -> [String] {
        transition.effects.compactMap { if case .replyInThread(let text) = $0 { text } else { nil } }
    }

    private func told(_ transition: Transition, _ user: String) -> String? {
        transition.effects.compactMap { if case .tellUser(user, let text, "https://r") = $0 { text } else { nil } }.first
    }

    @Test func anOpenedAlertAsksItsSlackUserWithATimer() throws {
        let transition = Self.created()
        let confirmation = try #require(transition.alert?.confirmation)
        #expect(confirmation == Confirmation(userID: Self.carol, state: .asking, requestedAt: F.t0, dueAt: at(1_800)))
        #expect(transition.effects.contains(.askSubject(userID: Self.carol)))
        #expect(transition.effects.contains(.scheduleTimer(.confirmTimeout, at: at(1_800))))
        // The post comes first: the question's reply goes into the alert's thread.
        #expect(transition.effects.first == .postAlert)
    }

    @Test func noQuestionWithoutTheOptionOrWithoutASlackUser() {
        let plain = Self.created(Self.playbook(confirm: nil))
        #expect(plain.alert?.confirmation == nil)
        #expect(!plain.effects.contains { if case .askSubject = $0 { true } else { false } })
        for subject in [Subject(ip: "203.0.113.7"), Subject(slackUserID: "not-a-user-id"), Subject(email: "carol@example.com")] {
            let transition = Self.created(subject: subject)
            #expect(transition.alert?.confirmation == nil, "\(subject)")
            #expect(!transition.effects.contains { if case .scheduleTimer(.confirmTimeout, _) = $0 { true } else { false } })
        }
    }

    @Test func theSentQuestionIsRecordedOnceWithAThreadReply() throws {
        let alert = Self.created().alert!
        let ref = MessageRef(channel: "D0CAROL1", ts: "1.1")
        let transition = AlertMachine.handle(alert, .subjectAsked(ref), alertID: "A1", now: at(2))
        #expect(transition.alert?.confirmation?.state == .asked)
        #expect(transition.alert?.confirmation?.message == ref)
        #expect(transition.audit?.action == "confirm.asked")
        #expect(replies(transition).first?.contains("asked <@\(Self.carol)> in a direct message") == true)
        let again = AlertMachine.handle(transition.alert!, .subjectAsked(ref), alertID: "A1", now: at(3))
        #expect(again.outcome == .ignored("question already recorded"))
        #expect(again.effects.isEmpty && again.audit == nil)
    }

    @Test func noRaisesTheSeverityMentionsTheRespondersAndMarksItMalicious() throws {
        let transition = answer(Self.asked(), .no)
        #expect(transition.outcome == .applied)
        let alert = try #require(transition.alert)
        #expect(alert.severity == .critical)
        #expect(alert.confirmation?.state == .denied)
        #expect(alert.confirmation?.answeredAt == at(60))
        #expect(alert.status == .open)
        let reply = try #require(replies(transition).first)
        #expect(reply.contains("<@\(F.alice)>") && reply.contains("<!subteam^S0SEC>"))
        #expect(reply.contains("confirmed malicious by the user") && reply.contains("from high to critical"))
        #expect(transition.effects.contains(.updateMessage) && transition.effects.contains(.updateQuestion))
        #expect(transition.effects.contains(.cancelTimer(.confirmTimeout)))
        #expect(transition.audit == AuditRecord(action: "confirm.no", actor: Self.carol, detail: "it was not me; severity high -> critical"))
        #expect(ConfirmationMessage.statusLine(alert)?.contains("Confirmed malicious by the user") == true)
    }

    @Test(arguments: [(Severity.low, Severity.medium), (.medium, .high), (.high, .critical), (.critical, .critical)])
    func noRaisesOneStep(from: Severity, to: Severity) {
        var alert = Self.asked()
        alert.severity = from
        #expect(answer(alert, .no).alert?.severity == to)
    }

    @Test func noWithoutRespondersMentionsTheEscalationList() throws {
        let alert = Self.asked()
        let transition = AlertMachine.handle(
            alert, .subjectAnswered(ConfirmClick(answer: .no, userID: Self.carol, responders: [])), alertID: "A1", now: at(60))
        #expect(try #require(replies(transition).first).hasPrefix(":rotating_light: <!subteam^S0ONCALL>: <@\(Self.carol)> answered"))
    }

    @Test func yesIsRecordedAndTheAlertStaysOpen() throws {
        let transition = answer(Self.asked(), .yes)
        let alert = try #require(transition.alert)
        #expect(alert.confirmation?.state == .confirmed)
        #expect(alert.status == .open)
        #expect(alert.severity == .high)
        #expect(replies(transition).first?.contains("a compromised account can say yes too") == true)
        #expect(transition.audit?.action == "confirm.yes")
        #expect(!transition.effects.contains(.cancelTimer(.ackTimeout)))
    }

    @Test(arguments: ConfirmAnswer.allCases)
    func anotherUsersPressIsRefusedOnTheRecordAndChangesNothing(_ choice: ConfirmAnswer) throws {
        let alert = Self.asked()
        let transition = answer(alert, choice, by: F.alice)
        guard case .rejected = transition.outcome else {
            Issue.record("expected a refusal, got \(transition.outcome)")
            return
        }
        #expect(transition.alert == alert)
        #expect(transition.audit?.action == "confirm.refused")
        #expect(transition.audit?.actor == F.alice)
        #expect(try #require(told(transition, F.alice)).contains("only <@\(Self.carol)> can answer"))
        #expect(TransitionRecord(transition, alertID: "A1", revision: 2).save == nil)
        // The subject can still answer afterwards.
        #expect(answer(alert, choice).outcome == .applied)
    }

    @Test func aPressAfterTheTimeoutChangesNothingEvenBeforeTheTimerFires() throws {
        let alert = Self.asked()
        let late = answer(alert, .no, at: TimeInterval(Self.timeout))
        #expect(late.outcome == .ignored("the question expired"))
        #expect(late.alert == alert)
        #expect(try #require(told(late, Self.carol)).contains("This question expired"))
        let expired = AlertMachine.handle(alert, .timerFired(.confirmTimeout), alertID: "A1", now: at(TimeInterval(Self.timeout)))
        let after = answer(expired.alert!, .yes, at: TimeInterval(Self.timeout + 60))
        #expect(after.outcome == .ignored("the question expired"))
        #expect(after.alert == expired.alert)
    }

    @Test func aDoubleClickIsOneAnswer() throws {
        let first = answer(Self.asked(), .no)
        let second = answer(first.alert!, .no, at: 61)
        #expect(second.outcome == .ignored("already answered"))
        #expect(second.alert == first.alert)
        #expect(second.audit == nil)
        #expect(try #require(told(second, Self.carol)).contains("already answered “No, it wasn't me”"))
        // Changing one's mind is not possible either.
        #expect(answer(first.alert!, .yes, at: 62).alert?.confirmation?.state == .denied)
    }

    @Test func aTimeoutReadBackAHairEarlyStillCloses() {
        let early = AlertMachine.handle(Self.asked(), .timerFired(.confirmTimeout), alertID: "A1", now: at(TimeInterval(Self.timeout) - 0.0004))
        #expect(early.alert?.confirmation?.state == .expired)
        let stale = AlertMachine.handle(Self.asked(), .timerFired(.confirmTimeout), alertID: "A1", now: at(TimeInterval(Self.timeout) - 60))
        #expect(stale.outcome != .applied)
    }

    @Test func noAnswerInTimeEscalatesAsThePlaybookSays() throws {
        let transition = AlertMachine.handle(Self.asked(), .timerFired(.confirmTimeout), alertID: "A1", now: at(TimeInterval(Self.timeout)))
        #expect(transition.alert?.confirmation?.state == .expired)
        #expect(transition.audit?.action == "confirm.expired")
        #expect(replies(transition) == [":hourglass: <!subteam^S0ONCALL>: <@\(Self.carol)> did not answer whether this was them within 30m."])
        #expect(transition.effects.contains(.updateQuestion))
        let channelled = Self.asked(Self.playbook(escalation: Escalation(mention: ["here"], channel: "C0ESCALATE")))
        let notice = AlertMachine.handle(channelled, .timerFired(.confirmTimeout), alertID: "A1", now: at(TimeInterval(Self.timeout)))
        #expect(
            notice.effects.contains {
                if case .postNotice("C0ESCALATE", let text) = $0 { text.hasPrefix(":hourglass: <!here>: alert `A1`") } else { false }
            })
        // An early or repeated timer changes nothing.
        #expect(AlertMachine.handle(Self.asked(), .timerFired(.confirmTimeout), alertID: "A1", now: at(10)).outcome != .applied)
        #expect(AlertMachine.handle(transition.alert!, .timerFired(.confirmTimeout), alertID: "A1", now: at(4_000)).outcome != .applied)
    }

    @Test func aResolvedAlertsQuestionExpiresWithoutCallingAnyone() throws {
        var alert = Self.asked()
        alert.status = .resolved
        alert.closedBy = F.alice
        let transition = AlertMachine.handle(alert, .timerFired(.confirmTimeout), alertID: "A1", now: at(TimeInterval(Self.timeout)))
        #expect(replies(transition) == [":hourglass: <@\(Self.carol)> did not answer whether this was them within 30m."])
        #expect(!transition.effects.contains { if case .postNotice = $0 { true } else { false } })
    }

    @Test(arguments: ["the account is deactivated", "the account is a bot"])
    func deactivatedAndBotUsersAreNotAskedAndTheThreadSaysSo(_ reason: String) throws {
        let transition = AlertMachine.handle(Self.created().alert!, .subjectNotAsked(reason: reason), alertID: "A1", now: at(2))
        #expect(transition.alert?.confirmation?.state == .notAsked)
        #expect(transition.alert?.confirmation?.note == reason)
        #expect(transition.audit == AuditRecord(action: "confirm.not_asked", actor: "sentry", detail: "\(Self.carol): \(reason)"))
        #expect(replies(transition) == [":no_bell: <@\(Self.carol)> was not asked whether this was them: \(reason)."])
        #expect(transition.effects.contains(.cancelTimer(.confirmTimeout)))
        // Nothing they press later counts, and no timeout escalates.
        #expect(answer(transition.alert!, .no).outcome != .applied)
        #expect(AlertMachine.handle(transition.alert!, .timerFired(.confirmTimeout), alertID: "A1", now: at(4_000)).outcome != .applied)
    }

    @Test func aQuestionSentAfterItExpiredLosesItsButtons() throws {
        let expired = AlertMachine.handle(Self.created().alert!, .timerFired(.confirmTimeout), alertID: "A1", now: at(TimeInterval(Self.timeout)))
        #expect(!expired.effects.contains(.updateQuestion))
        let sent = AlertMachine.handle(expired.alert!, .subjectAsked(MessageRef(channel: "D0CAROL1", ts: "9.9")), alertID: "A1", now: at(2_000))
        #expect(sent.alert?.confirmation?.state == .expired)
        #expect(sent.alert?.confirmation?.message?.ts == "9.9")
        #expect(sent.effects == [.updateQuestion])
    }

    @Test(arguments: [
        (SubjectAccount(deleted: false, isBot: false), nil as String?),
        (SubjectAccount(deleted: true, isBot: false), "the account is deactivated"),
        (SubjectAccount(deleted: false, isBot: true), "the account is a bot"),
        (SubjectAccount(deleted: false, isBot: false, isAppUser: true), "the account is a bot"),
        (SubjectAccount(deleted: true, isBot: true), "the account is deactivated"),
    ])
    func whoIsNeverAsked(_ account: SubjectAccount, _ reason: String?) {
        #expect(ConfirmationRule.whyNotAsk(account) == reason)
    }

    @Test func theQuestionIsInPlainWordsWithTwoButtonsCarryingOnlyTheAlertID() throws {
        let alert = Self.asked()
        #expect(ConfirmationMessage.question(alert) == "We saw 212 file downloads from your account today. Was this you?")
        let rendered = ConfirmationMessage.render(alert)
        let buttons = try #require(rendered.blocks.arrayValue?.first { $0["type"] == "actions" }?["elements"]?.arrayValue)
        #expect(buttons.map { $0["action_id"] } == ["confirm_yes", "confirm_no"])
        #expect(buttons.map { $0["value"] } == ["A1", "A1"])
        #expect(buttons.map { $0["text"]?["text"] } == ["Yes, it was me", "No, it wasn't me"])
        #expect(BlockKitCheck.messageProblem(text: rendered.text, blocks: rendered.blocks) == nil)
        let answered = ConfirmationMessage.render(answer(alert, .yes).alert!)
        #expect(!answered.blocks.encoded().contains("confirm_yes"))
        var own = alert
        own.policy.confirm?.question = "Did you <@U999> export the CRM?"
        #expect(ConfirmationMessage.render(own).blocks.encoded().contains("&lt;@U999&gt;"))
    }

    @Test func theTimerKindSurvivesItsRawValue() {
        #expect(TimerKind(rawValue: TimerKind.confirmTimeout.rawValue) == .confirmTimeout)
        #expect(TimerKind.confirmTimeout.rawValue == "confirm_timeout")
    }

    @Test func alertsStoredBeforeTheOptionStillDecode() throws {
        let alert = F.openAlert()
        var json = try #require(JSONValue.parse(Array(try JSONEncoder().encode(alert))))
        if case .object(var object) = json {
            object["confirmation"] = nil
            json = .object(object)
        }
        let decoded = try JSONDecoder().decode(Alert.self, from: Data(json.encoded().utf8))
        #expect(decoded.confirmation == nil && decoded.policy.confirm == nil)
        let asked = Self.asked()
        #expect(try JSONDecoder().decode(Alert.self, from: try JSONEncoder().encode(asked)) == asked)
    }
}

/// `confirm_with_subject` in playbook files: what lint accepts and how it explains the rest.
@Suite struct CoreConfirmPlaybookTests {
    static func parse(_ option: String, detection: String = "slack.max_daily_download") -> (Playbook?, [String]) {
        let text = "id: p\ntitle: P\ndetection: \(detection)\n\(option)\n"
        let result = PlaybookLoader.parse(text, file: "p.yml")
        return (result.playbook, result.problems.map(\.description))
    }

    @Test func aTimeoutAndOwnWordsAreRead() {
        #expect(Self.parse("confirm_with_subject: {timeout: 30m}").0?.confirmWithSubject == ConfirmSettings(timeout: 1_800))
        #expect(
            Self.parse("confirm_with_subject: {timeout: 90s, question: \"Was this you?\"}").0?.confirmWithSubject
                == ConfirmSettings(timeout: 90, question: "Was this you?"))
        #expect(Self.parse("confirm_with_subject: {timeout: 1h}", detection: "generic.*").0?.confirmWithSubject?.timeout == 3_600)
    }

    @Test(arguments: [
        ("confirm_with_subject: {timeout: 0s}", "p.yml:4: 'confirm_with_subject.timeout' must be a positive duration"),
        ("confirm_with_subject: {timeout: -5m}", "p.yml:4: 'confirm_with_subject.timeout' must be a positive duration"),
        ("confirm_with_subject: {timeout: soon}", "p.yml:4: 'confirm_with_subject.timeout' must be a positive duration"),
        ("confirm_with_subject: {question: Hi}", "p.yml:4: 'confirm_with_subject' needs a 'timeout'"),
        ("confirm_with_subject: {timeout: 5m, wait: 1}", "p.yml:4: unknown key 'wait' in confirm_with_subject"),
        ("confirm_with_subject: {timeout: 5m, question: \"\"}", "p.yml:4: 'confirm_with_subject.question' must be a non-empty text"),
        ("confirm_with_subject: 30m", "p.yml:4: 'confirm_with_subject' must be a mapping"),
    ])
    func mistakesAreExplainedWithTheirLine(_ option: String, _ message: String) {
        let (playbook, problems) = Self.parse(option)
        #expect(playbook == nil)
        #expect(problems.contains { $0.hasPrefix(message) }, "\(problems)")
    }

    @Test(arguments: ["slack.failed_logins_by_ip", "meraki.public_ip_change"])
    func aDetectionWhoseSubjectIsNeverASlackUserIsRefused(_ detection: String) {
        let (playbook, problems) = Self.parse("confirm_with_subject: {timeout: 30m}", detection: detection)
        #expect(playbook == nil)
        #expect(problems.contains { $0.contains("is never a Slack user") }, "\(problems)")
    }

    @Test func theShippedDownloadsPlaybookAsks() throws {
        let loaded = PlaybookLoader.load(directory: CoreFixtures.repoRoot.appendingPathComponent("Playbooks").path)
        #expect(loaded.problems.isEmpty, "\(loaded.problems)")
        let playbook = try #require(loaded.playbooks.first { $0.detection == "slack.max_daily_download" })
        #expect(playbook.confirmWithSubject == ConfirmSettings(timeout: 1_800))
    }
}
