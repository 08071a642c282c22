import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTesting

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
    static let merakiKey = "demo-meraki-key-not-real"

    let out: @Sendable (String) -> Void
    /// `sentry demo --socket-mode`: Slack's callbacks over the Socket Mode simulator, with a refresh midway.
    let socketMode: Bool

    public init(socketMode: Bool = false, out: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.out = out
        self.socketMode = socketMode
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
        let meraki = MerakiSimulator(apiKey: Self.merakiKey)
        let merakiApp = try await RunningApplication.start { meraki.application(onRunning: $0) }

        let sockets = SocketModeSimulator()
        let socketApp = try await RunningApplication.start { sockets.application(onRunning: $0) }
        simulator.attach(socketMode: sockets)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-demo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        var environment = [
            "SLACK_SIGNING_SECRET": Self.signingSecret, "SLACK_BOT_TOKEN": Self.botToken,
            "SLACK_ALERT_CHANNEL": Self.channel, "SLACK_RESPONDERS": "\(Self.alice),\(Self.bob)",
            "SENTRY_WEBHOOK_SECRET": Self.webhookSecret, "SENTRY_WEBHOOK_TOKEN": Self.webhookToken, "SLACK_API_URL": "\(slackURL)/api",
            "SENTRY_HTTP_HOST": "127.0.0.1", "SENTRY_HTTP_PORT": "0",
            "SENTRY_DATABASE_URL": "sqlite:\(folder.path)/sentry.db",
            "MERAKI_API_KEY": Self.merakiKey, "MERAKI_ORG_ID": meraki.organizationID,
            "MERAKI_API_URL": "http://127.0.0.1:\(merakiApp.port)/api/v1",
            // Real blocks last hours; the demo's lasts seconds.
            "SENTRY_MIN_TTL": "1",
        ]
        if socketMode {
            environment["SLACK_APP_TOKEN"] = sockets.appToken
            environment["SLACK_SOCKET_CONNECTIONS"] = "1"
        }
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
        // `sentry serve`'s wiring; its collectors stay off, as the failover act drives its own.
        let sentry = try await SentryApplication(
            configuration: configuration, playbooks: playbooks, store: store, transport: transport, logger: quiet,
            options: .init(runnerPollInterval: .milliseconds(200), timerInterval: .milliseconds(200), detections: false))
        let server = sentry.server
        let sentryApp = try await RunningApplication.start { sentry.application(onRunning: $0) }
        let client = LoopbackClient(baseURL: "http://127.0.0.1:\(sentryApp.port)", transport: transport, slackSecret: Self.signingSecret)
        let callbacks: SlackCallbackSender = socketMode ? .socketMode(sockets) : .http(client)

        out(
            "Sentry demo — the real server on 127.0.0.1:\(sentryApp.port), Slack and Meraki simulators on 127.0.0.1:\(slackApp.port) and :\(merakiApp.port)."
        )
        out("Responders: @\(Self.alice) and @\(Self.bob). Alert channel: #\(Self.channel). No credentials, nothing leaves this machine.")
        if socketMode { try await socketIntro(sockets, client: client) }
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
        _ = try await callbacks.click("ack", value: alertID, user: Self.mallory, responseURL: responseURL, messageTS: message.ts)
        try await expect(await simulator.waitUntil { $0.responses.count >= 1 }, "refusal sent")
        out("    Only @\(Self.mallory) sees: \(Transcript.plain(simulator.responses.last?["text"]?.stringValue ?? ""))")

        // 5. Alice acknowledges.
        step(5, "@\(Self.alice) clicks Acknowledge")
        _ = try await callbacks.click("ack", value: alertID, user: Self.alice, responseURL: responseURL, messageTS: message.ts)
        try await expect(await simulator.waitUntil { $0.replies(to: message.ts).count >= 1 }, "thread reply")
        try await expect(
            await simulator.waitUntil { ($0.topLevelMessages(channel: Self.channel).first?.text ?? "").contains("acknowledged") },
            "message shows acknowledged")
        message = simulator.topLevelMessages(channel: Self.channel)[0]
        out("    Message now says: \(line(message, containing: "Status"))")
        out("    Thread reply: \(Transcript.plain(simulator.replies(to: message.ts).last?.text ?? ""))")

        // 6. Bob double-clicks.
        step(6, "@\(Self.bob) clicks Acknowledge a moment later (a double click)")
        _ = try await callbacks.click("ack", value: alertID, user: Self.bob, responseURL: responseURL, messageTS: message.ts)
        try await expect(await simulator.waitUntil { $0.responses.count >= 2 }, "double-click answer")
        out("    Only @\(Self.bob) sees: \(Transcript.plain(simulator.responses.last?["text"]?.stringValue ?? ""))")

        if socketMode { try await socketRefresh(sockets) }

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

        // 8-12. Containment with approval and automatic rollback.
        step(8, "@\(Self.alice) presses Block IP… on the first alert; a form opens")
        _ = try await callbacks.click("block_ip", value: alertID, user: Self.alice, responseURL: responseURL, messageTS: message.ts)
        try await expect(await simulator.waitUntil { $0.views.count == 1 }, "modal opened")
        let view = simulator.views[0]
        Transcript.blocks(view["blocks"].map { .array(Array(($0.arrayValue ?? []).prefix(1))) }).forEach(out)
        out("    │ [For how long: \(view["blocks"]?.arrayValue?[1]["element"]?["initial_value"]?.stringValue ?? "?")] [Reason: …]")

        step(9, "She asks for 6 seconds (real blocks last hours) because of password spraying")
        let values: JSONValue = [
            ContainmentModal.ttlBlock: [ContainmentModal.ttlAction: ["type": "plain_text_input", "value": "6s"]],
            ContainmentModal.reasonBlock: [
                ContainmentModal.reasonAction: ["type": "plain_text_input", "value": "password spraying from this address"]
            ],
        ]
        _ = try await callbacks.submitView(
            callbackID: ContainmentModal.callbackID, user: Self.alice, privateMetadata: view["private_metadata"]?.stringValue ?? "", values: values)
        try await expect(await simulator.waitUntil { $0.replies(to: message.ts).count >= 2 }, "request reply")
        out("    Thread reply: \(Transcript.plain(simulator.replies(to: message.ts).last?.text ?? ""))")
        let containmentID = try await store.alert(id: alertID)?.containments.first?.id ?? "?"

        step(10, "@\(Self.alice) tries to approve her own request")
        _ = try await callbacks.click("approve", value: containmentID, user: Self.alice, responseURL: responseURL, messageTS: message.ts)
        try await expect(await simulator.waitUntil { $0.responses.count >= 3 }, "self-approval refused")
        out("    Only @\(Self.alice) sees: \(Transcript.plain(simulator.responses.last?["text"]?.stringValue ?? ""))")

        step(11, "@\(Self.bob) approves: Sentry writes a deny rule to every Meraki network with an appliance")
        _ = try await callbacks.click("approve", value: containmentID, user: Self.bob, responseURL: responseURL, messageTS: message.ts)
        try await expect(await simulator.waitUntil { $0.replies(to: message.ts).contains { $0.text.contains("in place until") } }, "block active")
        out("    Thread reply: \(Transcript.plain(simulator.replies(to: message.ts).last?.text ?? ""))")
        for network in [MerakiSimulator.mainOffice, MerakiSimulator.branch] {
            let top = meraki.l3Rules(networkID: network).first
            out(
                "    Meraki \(network) first L3 rule: \(top?["policy"]?.stringValue ?? "?") \(top?["destCidr"]?.stringValue ?? "?") — \(top?["comment"]?.stringValue ?? "")"
            )
        }

        step(12, "Six seconds later the block expires and rolls itself back; other rules are untouched")
        try await expect(
            await simulator.waitUntil(timeout: .seconds(20)) { $0.replies(to: message.ts).contains { $0.text.contains("rolled back") } }, "rollback")
        out("    Thread reply: \(Transcript.plain(simulator.replies(to: message.ts).last?.text ?? ""))")
        out(
            "    Meraki \(MerakiSimulator.mainOffice) rules now: \(meraki.l3Rules(networkID: MerakiSimulator.mainOffice).map { $0["comment"]?.stringValue ?? "?" })"
        )

        // 13. Resolve.
        step(13, "@\(Self.alice) resolves the first alert")
        let repliesBefore = simulator.replies(to: message.ts).count
        _ = try await callbacks.click("resolve", value: alertID, user: Self.alice, responseURL: responseURL, messageTS: message.ts)
        try await expect(await simulator.waitUntil { $0.replies(to: message.ts).count > repliesBefore }, "resolve reply")
        try await expect(
            await simulator.waitUntil { ($0.topLevelMessages(channel: Self.channel).first?.text ?? "").contains("resolved") },
            "message shows resolved")
        message = simulator.topLevelMessages(channel: Self.channel)[0]
        out("    Message now says: \(line(message, containing: "Status")); its buttons are gone.")
        out("    Thread reply: \(Transcript.plain(simulator.replies(to: message.ts).last?.text ?? ""))")

        // 14-17. LTE failover: approved devices only while on cellular.
        try await failoverAct(
            FailoverStage(
                slack: simulator, meraki: meraki, merakiURL: configuration.merakiAPIURL, store: store, transport: transport,
                wake: { server.runner.wake() }),
            firstStep: 14)

        // 18-19. An engine's own webhook: Alertmanager fires, then resolves by itself.
        try await engineAct(simulator: simulator, client: client, firstStep: 18)

        // 20-21. The affected user is asked and answers No.
        try await confirmAct(simulator: simulator, client: client, callbacks: callbacks, responseURL: responseURL, firstStep: 20)

        // 22. The Home tab.
        step(22, "@\(Self.alice) opens Sentry's Home tab in Slack")
        let opened = try await callbacks.event(
            ["type": "app_home_opened", "user": .string(Self.alice), "channel": "D0DEMOHOME", "tab": "home"], id: "Ev0DEMOHOME")
        out("    app_home_opened → \(opened.status)")
        try await expect(await simulator.waitUntil { $0.homes[Self.alice] != nil }, "Home tab published")
        Transcript.blocks(simulator.homes[Self.alice]?["blocks"]).forEach(out)

        // 23. The numbers.
        step(23, "@\(Self.alice) asks for the week's numbers: /sentry stats")
        let stats = try await callbacks.command("stats", user: Self.alice)
        try await expect(stats.status == 200 && stats.json?["blocks"] != nil, "stats answer")
        Transcript.blocks(stats.json?["blocks"]).forEach(out)

        // 24. The audit trail.
        step(24, "The audit trail (hash chain) of everything above")
        let entries = try await store.auditEntries(after: 0, limit: 1_000)
        for entry in entries {
            out(
                "    #\(entry.seq) \(Timestamp.iso8601(entry.at)) \(entry.actor) \(entry.action) \(entry.alertID ?? "") \(entry.detail.replacingOccurrences(of: "\n", with: " "))"
            )
        }
        out("    \(AuditChain.verify(entries))")
        let requests = simulator.requests.filter { $0.method.hasPrefix("chat.") }.count
        let questions = simulator.topLevelMessages().filter { $0.channel.hasPrefix("D") }.count
        let alerts = simulator.topLevelMessages().count - questions
        out("")
        out(
            "Done: \(alerts) alert messages, \(simulator.messages.count - simulator.topLevelMessages().count) thread replies, \(questions) question in a DM, \(requests) chat.* calls to Slack."
        )

        await sentryApp.stop()
        await socketApp.stop()
        await slackApp.stop()
        await merakiApp.stop()
    }

    /// Socket Mode: the socket is up, and the Slack endpoints are gone.
    func socketIntro(_ sockets: SocketModeSimulator, client: LoopbackClient) async throws {
        try await expect(await sockets.waitUntil { $0.openConnections.count == 1 }, "Socket Mode hello")
        out(
            "Socket Mode: SLACK_APP_TOKEN is set; Sentry opened \(sockets.openConnections.count) outbound WebSocket from apps.connections.open and got hello."
        )
        let refused = try await client.slack("/slack/interactivity", form: "payload=%7B%7D")
        out(
            "    POST /slack/interactivity → \(refused.status): with no public endpoint, every click below arrives as an envelope and is acked on the socket."
        )
    }

    /// Slack's routine refresh, make-before-break: the new socket says hello before the old one closes.
    func socketRefresh(_ sockets: SocketModeSimulator) async throws {
        guard let old = sockets.openConnections.first else { throw Failure.step("no socket to refresh") }
        out("")
        out("   (Slack sends disconnect/refresh_requested on socket #\(old))")
        try await sockets.disconnect("refresh_requested", connection: old)
        try await expect(await sockets.waitUntil { $0.openConnections.count == 1 && $0.openConnections.first != old }, "socket refreshed")
        out(
            "    Sentry minted a new URL, socket #\(sockets.openConnections[0]) said hello, then #\(old) closed; \(sockets.acks.count) envelopes acked so far, none pending (\(sockets.unacked.count))."
        )
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
