import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTesting
import Testing

/// A Sentry server and a Slack simulator on loopback, with a manual clock and a store the test can read.
public final class ServerHarness: Sendable {
    public static let signingSecret = "test-signing-secret-not-real"
    public static let botToken = "xoxb-test-token-not-real"
    public static let webhookSecret = "test-webhook-secret-not-real"
    public static let webhookToken = "test-webhook-token-not-real"
    public static let adminToken = "xoxp-test-admin-token-not-real"
    public static let merakiKey = "test-meraki-key-not-real"
    public static let channel = "C0TESTALERTS"
    public static let alice = "U0ALICE"
    public static let bob = "U0BOB"

    public let simulator: SlackSimulator
    public let meraki: MerakiSimulator
    public let slackAdmin: SlackAdminSimulator
    public let merakiApp: RunningApplication
    public let adminApp: RunningApplication
    public let slackApp: RunningApplication
    public let sentryApp: RunningApplication
    public let server: SentryServer
    public let store: any AlertStore
    public let clock: ManualClock
    public let transport: CurlTransport
    public let client: LoopbackClient
    public let slackURL: String
    public let metrics: ServerMetrics

    public static let testPlaybooks: [Playbook] = [
        Playbook(
            id: "failed-logins", title: "Failed logins", detection: "slack.failed_logins_by_ip", severity: .high,
            groupingWindow: 3_600, ackTimeout: 900, escalation: Escalation(mention: ["S0ONCALL"], repeatCount: 2),
            actions: [ContainmentAction(kind: .blockIP, approvals: 1, ttl: 14_400)]),
        Playbook(id: "downloads", title: "Downloads", detection: "slack.max_daily_download", severity: .medium),
    ]

    public init(
        environment extra: [String: String] = [:], playbooks: [Playbook] = ServerHarness.testPlaybooks,
        store: (any AlertStore)? = nil, clock: ManualClock = ManualClock(Date()), uplinks: Bool = true, logger: Logger? = nil
    ) async throws {
        simulator = SlackSimulator(token: Self.botToken)
        let simulator = self.simulator
        slackApp = try await RunningApplication.start { simulator.application(onRunning: $0) }
        slackURL = "http://127.0.0.1:\(slackApp.port)"
        meraki = MerakiSimulator(apiKey: Self.merakiKey)
        let meraki = self.meraki
        merakiApp = try await RunningApplication.start { meraki.application(onRunning: $0) }
        slackAdmin = SlackAdminSimulator(token: Self.adminToken)
        let slackAdmin = self.slackAdmin
        adminApp = try await RunningApplication.start { slackAdmin.application(onRunning: $0) }
        var environment = [
            "SLACK_SIGNING_SECRET": Self.signingSecret, "SLACK_BOT_TOKEN": Self.botToken,
            "SLACK_ALERT_CHANNEL": Self.channel, "SLACK_RESPONDERS": "\(Self.alice),\(Self.bob)",
            "SENTRY_WEBHOOK_SECRET": Self.webhookSecret, "SENTRY_WEBHOOK_TOKEN": Self.webhookToken,
            "SLACK_API_URL": "\(slackURL)/api", "SENTRY_HTTP_HOST": "127.0.0.1", "SENTRY_HTTP_PORT": "0",
            "SLACK_ADMIN_TOKEN": Self.adminToken, "SLACK_SCIM_URL": "http://127.0.0.1:\(adminApp.port)/scim/v2",
            "MERAKI_API_KEY": Self.merakiKey, "MERAKI_ORG_ID": meraki.organizationID, "MERAKI_API_URL": "http://127.0.0.1:\(merakiApp.port)/api/v1",
        ]
        for (key, value) in extra { environment[key] = value.isEmpty ? nil : value }
        let configuration = try ServerConfiguration.load(environment: environment).get()
        self.clock = clock
        let sqlite = try SQLiteAlertStore.inMemory()
        self.store = store ?? sqlite
        transport = CurlTransport()
        let logger = logger ?? Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let metrics = ServerMetrics()
        self.metrics = metrics
        // What the bot sends upstream goes through the metered transport, as in `sentry serve`.
        let upstream = MeteredTransport(base: transport, metrics: metrics, configuration: configuration)
        let slack = SlackClient(
            transport: upstream, baseURL: configuration.slackAPIURL, token: configuration.slackBotToken,
            sleep: { _ in }, logger: logger)
        let server = SentryServer(
            configuration: configuration, catalog: PlaybookCatalog(playbooks), store: self.store, slack: slack, clock: clock,
            // The manual clock drives the runner's poll; timers fire when a test calls `fireDue()` (the scheduler's own
            // pass never comes round), and Slack's posting pace runs in real time.
            metrics: metrics, logger: logger, runnerPollInterval: .milliseconds(50), timerInterval: .seconds(100 * 365 * 86_400),
            containment: LiveContainmentExecutor.make(
                configuration: configuration, transport: upstream, journal: (store as? SQLiteAlertStore) ?? sqlite, logger: logger,
                metrics: metrics),
            uplinks: !uplinks
                ? nil
                : MerakiUplinkLookup(
                    client: MerakiClient(
                        transport: upstream, baseURL: configuration.merakiAPIURL, apiKey: Self.merakiKey, organizationID: meraki.organizationID,
                        limiter: TokenBucket(capacity: 10, refillPerSecond: 10), retry: RetryPolicy(maxAttempts: 1), sleep: { _ in }, logger: logger)),
            pacer: SlackPacer(clock: SystemClock(), onWait: { metrics.rateLimitWait(limiter: $0, duration: $1) }))
        self.server = server
        sentryApp = try await RunningApplication.start { server.application(onRunning: $0) }
        client = LoopbackClient(baseURL: "http://127.0.0.1:\(sentryApp.port)", transport: transport, slackSecret: Self.signingSecret, clock: clock)
    }

    public func stop() async {
        await sentryApp.stop()
        await slackApp.stop()
        await merakiApp.stop()
        await adminApp.stop()
        transport.shutdown()
    }

    public var responseURL: String { "\(slackURL)/response/test" }

    /// Waits until the runner has carried out everything due so far at the clock's time (nothing more will happen
    /// until the clock moves or a request comes): what a test checks after it is final.
    public func settled() async -> Bool {
        await eventually { self.server.runner.isIdle }
    }

    public static func detection(id: String = "evt-1", detection: String = "slack.failed_logins_by_ip", ip: String = "203.0.113.7") -> JSONValue {
        ["id": .string(id), "detection": .string(detection), "title": "Failed logins", "subject": ["ip": .string(ip)], "evidence": ["failed": 40]]
    }

    /// Creates an alert through the webhook and waits for its message.
    public func postedAlert(id: String = "evt-1") async throws -> (alertID: String, ts: String) {
        let before = simulator.topLevelMessages().count
        let answer = try await client.detection(Self.detection(id: id), secret: Self.webhookSecret)
        #expect(answer.status == 202)
        let alertID = try #require(answer.json?["alert_id"]?.stringValue)
        #expect(await simulator.waitUntil { $0.topLevelMessages().count == before + 1 })
        let ts = try #require(simulator.topLevelMessages().last?.ts)
        // Slack has it; wait until the store has recorded it too.
        #expect(await eventually { try await self.store.alert(id: alertID)?.message?.ts == ts })
        return (alertID, ts)
    }
}

/// Runs a body with a harness and always stops it.
public func withHarness(
    environment: [String: String] = [:], playbooks: [Playbook] = ServerHarness.testPlaybooks, logger: Logger? = nil,
    _ body: (ServerHarness) async throws -> Void
) async throws {
    let harness = try await ServerHarness(environment: environment, playbooks: playbooks, logger: logger)
    do {
        try await body(harness)
    } catch {
        await harness.stop()
        throw error
    }
    await harness.stop()
}
