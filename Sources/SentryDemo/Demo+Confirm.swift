import Foundation
import SentryConnectors
import SentryCore
import SentryTesting

/// The confirmation act of `sentry demo`: a user downloads far more than anyone should, Sentry asks her in a
/// direct message whether it was her, she answers No, and the alert is raised and its responders called.
extension Demo {
    static let carol = "U0CAROL"

    func confirmAct(simulator: SlackSimulator, client: LoopbackClient, callbacks: SlackCallbackSender, responseURL: String, firstStep: Int)
        async throws
    {
        step(firstStep, "A detection engine reports 212 file downloads today by @\(Self.carol); the playbook asks her (confirm_with_subject)")
        let detection: JSONValue = [
            "id": "engine-evt-0004", "detection": "slack.max_daily_download", "severity": "high",
            "title": .string("\(Self.carol) downloaded 212 files today"),
            "summary": .string("\(Self.carol) downloaded 212 files in one UTC day (threshold 100)."),
            "subject": ["slack_user_id": .string(Self.carol)], "evidence": ["count": 212, "window": "UTC day", "threshold": 100],
        ]
        let before = simulator.topLevelMessages(channel: Self.channel).count
        let created = try await client.detection(detection, secret: Self.webhookSecret)
        out("    POST /hooks/detections → \(created.status) \(created.text)")
        try await expect(await simulator.waitUntil { !$0.directMessages(to: Self.carol).isEmpty }, "question sent")
        try await expect(await simulator.waitUntil { $0.topLevelMessages(channel: Self.channel).count == before + 1 }, "alert posted")
        let message = simulator.topLevelMessages(channel: Self.channel)[before]
        try await expect(await simulator.waitUntil { !$0.replies(to: message.ts).isEmpty }, "asked reply")
        let dm = simulator.directMessages(to: Self.carol)[0]
        out("    users.info says @\(Self.carol) is an active person; Sentry opened a DM (conversations.open) and asked:")
        Transcript.blocks(dm.blocks).forEach(out)
        out("    Thread reply: \(Transcript.plain(simulator.replies(to: message.ts).last?.text ?? ""))")

        step(firstStep + 1, "@\(Self.carol) presses No, it wasn't me")
        let replies = simulator.replies(to: message.ts).count
        _ = try await callbacks.click(
            ConfirmAnswer.no.rawValue, value: created.json?["alert_id"]?.stringValue ?? "", user: Self.carol, responseURL: responseURL,
            messageTS: dm.ts)
        try await expect(await simulator.waitUntil { $0.replies(to: message.ts).count > replies }, "answer reply")
        try await expect(
            await simulator.waitUntil {
                ($0.topLevelMessages(channel: Self.channel)[before].blocks?.encoded() ?? "").contains("Confirmed malicious")
            },
            "message shows the answer")
        try await expect(await simulator.waitUntil { $0.directMessages(to: Self.carol).first?.edits ?? 0 >= 1 }, "question closed")
        let updated = simulator.topLevelMessages(channel: Self.channel)[before]
        out("    Thread reply: \(Transcript.plain(simulator.replies(to: message.ts).last?.text ?? ""))")
        out("    Message now says: \(line(updated, containing: "Severity")) · \(line(updated, containing: "Confirmed malicious"))")
        out("    Her DM now says: \(line(simulator.directMessages(to: Self.carol)[0], containing: "You answered"))")
    }
}
