import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryStore

/// `sentry demo`: the real server and real clients against the Slack simulator on loopback, playing a
/// scripted incident and printing what a responder would see. Needs no credentials.
public struct Demo {
    static let signingSecret = "demo-signing-secret-not-real"
    static let botToken = "xoxb-demo-token-not-real"
    static let webhookSecret = "demo-webhook-secret-not-real"
    static let channel = "C0SECALERTS"
    static let alice = "U0ALICE"
    static let bob = "U0BOB"
    static let mallory = "U0MALLORY"

    let out: @Sendable (String) -> Void

    public init(out: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.out = out
    }

    public enum Failure: Error, CustomStringConvertible {
        case step(String)
        public var description: String {
            switch self {
            case .step(let text): "demo step failed: \(text)"
            }
        }
    }

    public func run() async throws {
        let simulator = SlackSimulator(token: Self.botToken)
        let slackApp = try await RunningApplication.start { simulator.application(onRunning: $0) }
        let slackURL = "http://127.0.0.1:\(slackApp.port)"

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        let environment = [
            "SLACK_SIGNING_SECRET": Self.signingSecret, "SLACK_BOT_TOKEN": Self.botToken,
            "SLACK_ALERT_CHANNEL": Self.channel, "SLACK_RESPONDERS": "\(Self.alice),\(Self.bob)",
            "SENTRY_WEBHOOK_SECRET": Self.webhookSecret, "SLACK_API_URL": "\(slackURL)/api",
            "SENTRY_HTTP_HOST": "127.0.0.1", "SENTRY_HTTP_PORT": "0",
            "SENTRY_DATABASE_URL": "sqlite:\(folder.path)/sentry.db",
        ]
        guard case .success(let configuration) = ServerConfiguration.load(environment: environment) else {
            throw Failure.step("built-in configuration rejected")
        }
        let playbooks = try DemoPlaybooks.files.map { file -> Playbook in
            let parsed = PlaybookLoader.parse(file.yaml, file: file.name)
            guard let playbook = parsed.playbook else { throw Failure.step("built-in playbook \(file.name): \(parsed.problems)") }
            return playbook
        }
        let store = try SQLiteAlertStore(path: "\(folder.path)/sentry.db")
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let quiet = Logger(label: "sentry", factory: { _ in SwiftLogNoOpLogHandler() })
        let slack = SlackClient(transport: transport, baseURL: configuration.slackAPIURL, token: configuration.slackBotToken, logger: quiet)
        let server = SentryServer(
            configuration: configuration, catalog: PlaybookCatalog(playbooks), store: store, slack: slack, logger: quiet,
            runnerPollInterval: .milliseconds(200), timerInterval: .milliseconds(200))
        let sentryApp = try await RunningApplication.start { server.application(onRunning: $0) }
        let client = LoopbackClient(baseURL: "http://127.0.0.1:\(sentryApp.port)", transport: transport, slackSecret: Self.signingSecret)

        out("Sentry demo — the real server on 127.0.0.1:\(sentryApp.port), a Slack simulator on 127.0.0.1:\(slackApp.port).")
        out("Responders: @\(Self.alice) and @\(Self.bob). Alert channel: #\(Self.channel). No credentials, nothing leaves this machine.")
        out("")

        // 1. A detection arrives.
        step(1, "A detection engine reports 40 failed Slack logins from 203.0.113.7 (signed webhook)")
        let detection: JSONValue = [
            "id": "engine-evt-0001", "detection": "slack.failed_logins_by_ip", "severity": "high",
            "title": "40 failed Slack logins from one IP address",
            "summary": "40 `user_login_failed` events from 203.0.113.7 in 10 minutes, against 6 accounts.",
            "subject": ["ip": "203.0.113.7"],
            "evidence": ["failed_logins": 40, "accounts": 6, "window": "10m", "user_agent": "python-requests/2.31"],
        ]
        let created = try await client.detection(detection, secret: Self.webhookSecret)
        out("    POST /hooks/detections → \(created.status) \(created.text)")
        guard let alertID = created.json?["alert_id"]?.stringValue else { throw Failure.step("no alert id in \(created.text)") }
        try await expect(await simulator.waitUntil { $0.topLevelMessages(channel: Self.channel).count == 1 }, "alert message posted")
        var message = simulator.topLevelMessages(channel: Self.channel)[0]
        out("    Sentry posted to #\(Self.channel) (chat.postMessage):")
        Transcript.blocks(message.blocks).forEach(out)

        // 2. Same detection again: a Slack retry or a re-sent event changes nothing.
        step(2, "The engine re-sends the same event id (a retry)")
        let duplicate = try await client.detection(detection, secret: Self.webhookSecret)
        out("    POST /hooks/detections → \(duplicate.status) \(duplicate.text)  (nothing changes, no new post)")

        // 3. A new event on the same subject groups into the alert.
        step(3, "Ten minutes later the engine reports the same IP again (new event id)")
        var again = detection
        if case .object(var object) = again {
            object["id"] = "engine-evt-0002"
            again = .object(object)
        }
        let grouped = try await client.detection(again, secret: Self.webhookSecret)
        out("    POST /hooks/detections → \(grouped.status) \(grouped.text)")
        try await expect(await simulator.waitUntil { $0.topLevelMessages(channel: Self.channel).first?.edits ?? 0 >= 1 }, "alert message updated")
        message = simulator.topLevelMessages(channel: Self.channel)[0]
        out("    The message was updated in place (chat.update), still one post: \(line(message, containing: "Seen"))")

        // 4. Someone who is not a responder clicks.
        let responseURL = "\(slackURL)/response/demo"
        step(4, "@\(Self.mallory), not a responder, clicks Acknowledge")
        _ = try await client.click("ack", value: alertID, user: Self.mallory, responseURL: responseURL, messageTS: message.ts)
        try await expect(await simulator.waitUntil { $0.responses.count >= 1 }, "refusal sent")
        out("    Only @\(Self.mallory) sees: \(Transcript.plain(simulator.responses.last?["text"]?.stringValue ?? ""))")

        // 5. Alice acknowledges.
        step(5, "@\(Self.alice) clicks Acknowledge")
        _ = try await client.click("ack", value: alertID, user: Self.alice, responseURL: responseURL, messageTS: message.ts)
        try await expect(await simulator.waitUntil { $0.replies(to: message.ts).count >= 1 }, "thread reply")
        try await expect(await simulator.waitUntil { ($0.topLevelMessages(channel: Self.channel).first?.text ?? "").contains("acknowledged") }, "message shows acknowledged")
        message = simulator.topLevelMessages(channel: Self.channel)[0]
        out("    Message now says: \(line(message, containing: "Status"))")
        out("    Thread reply: \(Transcript.plain(simulator.replies(to: message.ts).last?.text ?? ""))")

        // 6. Bob double-clicks.
        step(6, "@\(Self.bob) clicks Acknowledge a moment later (a double click)")
        _ = try await client.click("ack", value: alertID, user: Self.bob, responseURL: responseURL, messageTS: message.ts)
        try await expect(await simulator.waitUntil { $0.responses.count >= 2 }, "double-click answer")
        out("    Only @\(Self.bob) sees: \(Transcript.plain(simulator.responses.last?["text"]?.stringValue ?? ""))")

        // 7. Escalation on a second alert nobody acknowledges.
        step(7, "A Meraki uplink changes public IP; its playbook escalates after 2 s without acknowledgement")
        let uplink: JSONValue = [
            "id": "engine-evt-0003", "detection": "meraki.public_ip_change",
            "title": "Branch MX public IP changed", "summary": "wan1 of Q2XX-DEMO-0001 moved from 198.51.100.10 to 198.51.100.77.",
            "subject": ["meraki_network_id": "N_DEMO_BRANCH", "meraki_serial": "Q2XX-DEMO-0001"],
        ]
        let second = try await client.detection(uplink, secret: Self.webhookSecret)
        out("    POST /hooks/detections → \(second.status) \(second.text)")
        try await expect(await simulator.waitUntil { $0.topLevelMessages(channel: Self.channel).count == 2 }, "second alert posted")
        let secondTS = simulator.topLevelMessages(channel: Self.channel)[1].ts
        try await expect(await simulator.waitUntil(timeout: .seconds(10)) { $0.replies(to: secondTS).count >= 1 }, "escalation reply")
        out("    Thread reply after the timeout: \(Transcript.plain(simulator.replies(to: secondTS).last?.text ?? ""))")

        // 8. Resolve.
        step(8, "@\(Self.alice) resolves the first alert")
        _ = try await client.click("resolve", value: alertID, user: Self.alice, responseURL: responseURL, messageTS: message.ts)
        try await expect(await simulator.waitUntil { $0.replies(to: message.ts).count >= 2 }, "resolve reply")
        try await expect(await simulator.waitUntil { ($0.topLevelMessages(channel: Self.channel).first?.text ?? "").contains("resolved") }, "message shows resolved")
        message = simulator.topLevelMessages(channel: Self.channel)[0]
        out("    Message now says: \(line(message, containing: "Status")); its buttons are gone.")
        out("    Thread reply: \(Transcript.plain(simulator.replies(to: message.ts).last?.text ?? ""))")

        step(9, "Containment (block IP with approval, automatic expiry) is not part of this build yet; the Block IP… button answers so.")

        // 10. The audit trail.
        step(10, "The audit trail (hash chain) of everything above")
        let entries = try await store.auditEntries(after: 0, limit: 1_000)
        for entry in entries {
            out("    #\(entry.seq) \(Timestamp.iso8601(entry.at)) \(entry.actor) \(entry.action) \(entry.alertID ?? "") \(entry.detail)")
        }
        out("    \(AuditChain.verify(entries))")
        let requests = simulator.requests.filter { $0.method.hasPrefix("chat.") }.count
        out("")
        out("Done: \(simulator.topLevelMessages().count) alert messages, \(simulator.messages.count - simulator.topLevelMessages().count) thread replies, \(requests) chat.* calls to Slack.")

        await sentryApp.stop()
        await slackApp.stop()
    }

    func step(_ number: Int, _ text: String) {
        out("")
        out("\(number). \(text)")
    }

    func line(_ message: SlackSimulator.Message, containing word: String) -> String {
        Transcript.blocks(message.blocks, indent: "").first { $0.contains(word) } ?? "?"
    }

    func expect(_ condition: Bool, _ what: String) async throws {
        if !condition { throw Failure.step("timed out waiting for: \(what)") }
    }
}
