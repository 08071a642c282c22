import Foundation
import SentryTestSupport
import SentryTesting
import Testing

@testable import SentryCore

/// The question in the subject's DM, the alert message after a "No", and the thread replies of the question,
/// compared with reviewed copies in Tests/SentryTests/Golden (`SENTRY_UPDATE_GOLDEN=1` rewrites them) and
/// checked against Block Kit's limits.
@Suite struct CoreConfirmGoldenTests {
    static let t0 = CoreGoldenMessageTests.t0

    static func kinds() -> [(String, JSONValue)] {
        let playbook = Playbook(
            id: "slack-max-daily-download", title: "Maximum daily downloads exceeded", detection: "slack.max_daily_download", severity: .high,
            ackTimeout: 1_800, escalation: Escalation(mention: ["S0SECONCALL"], repeatCount: 2),
            actions: [ContainmentAction(kind: .blockUser, approvals: 1, ttl: 86_400)], confirmWithSubject: ConfirmSettings(timeout: 1_800))
        let detection = Detection(
            id: "evt-9", detection: "slack.max_daily_download", severity: nil, title: "U024BE7LH downloaded 212 files today",
            summary: "U024BE7LH downloaded 212 files in one UTC day (threshold 100).", subject: Subject(slackUserID: "U024BE7LH"),
            evidence: ["count": 212, "window": "UTC day", "threshold": 100], occurredAt: t0)
        let opened = AlertMachine.handle(
            nil, .detectionReceived(detection, playbook: playbook, channel: "C0SECALERTS"), alertID: "A-5CNF1RM9", now: t0)
        var alert = opened.alert!
        alert.message = MessageRef(channel: "C0SECALERTS", ts: "1795338000.000100")
        let asked = AlertMachine.handle(alert, .subjectAsked(MessageRef(channel: "D024BE7LH", ts: "1795338001.000200")), alertID: alert.id, now: t0)
        let waiting = asked.alert!
        func click(_ answer: ConfirmAnswer) -> Transition {
            AlertMachine.handle(
                waiting, .subjectAnswered(ConfirmClick(answer: answer, userID: "U024BE7LH", responders: ["U0ALICE", "U0BOB"])), alertID: alert.id,
                now: t0.addingTimeInterval(300))
        }
        let denied = click(.no)
        let confirmed = click(.yes)
        let expired = AlertMachine.handle(waiting, .timerFired(.confirmTimeout), alertID: alert.id, now: t0.addingTimeInterval(1_800))
        let skipped = AlertMachine.handle(alert, .subjectNotAsked(reason: "the account is deactivated"), alertID: alert.id, now: t0)
        func message(_ rendered: (text: String, blocks: JSONValue)) -> JSONValue { ["text": .string(rendered.text), "blocks": rendered.blocks] }
        let replies = [asked, denied, confirmed, expired, skipped].flatMap { transition in
            transition.effects.compactMap { if case .replyInThread(let text) = $0 { JSONValue.string(text) } else { nil } }
        }
        return [
            ("confirm-dm-asked", message(ConfirmationMessage.render(waiting))),
            ("confirm-dm-denied", message(ConfirmationMessage.render(denied.alert!))),
            ("confirm-dm-expired", message(ConfirmationMessage.render(expired.alert!))),
            ("alert-confirm-denied", message(AlertMessage.render(denied.alert!))),
            ("alert-confirm-asked", message(AlertMessage.render(waiting))),
            ("reply-confirm", .array(replies)),
        ]
    }

    @Test(arguments: kinds().map(\.0))
    func matchesItsGoldenCopyAndSlackLimits(_ name: String) throws {
        let value = try #require(Self.kinds().first { $0.0 == name }?.1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let rendered = String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
        let file = CoreFixtures.golden.appendingPathComponent("\(name).json")
        if ProcessInfo.processInfo.environment["SENTRY_UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: file, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(rendered == golden, "\(name) changed; if intended, regenerate with SENTRY_UPDATE_GOLDEN=1 and review the diff")
        #expect(BlockKitCheck.messageProblem(text: value["text"]?.stringValue, blocks: value["blocks"]) == nil)
    }
}
