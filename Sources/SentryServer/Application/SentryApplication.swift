import Foundation
import Hummingbird
import Logging
import SentryConnectors
import SentryCore
import SentryStore
import ServiceLifecycle

/// What `sentry serve` runs, wired from the configuration over a store and a transport the caller owns: the
/// upstream clients (metered), containment, the `/sentry uplinks` look-up, the HTTP server with its runner and
/// timers, and the built-in detections. `buildApplication(configuration:logger:)` opens the store and the
/// transport; the demo and tests pass their own, with the simulators' URLs in the configuration.
public struct SentryApplication: Sendable {
    /// What a caller may change from `sentry serve`'s defaults.
    public struct Options: Sendable {
        public var runnerPollInterval: Duration
        public var timerInterval: Duration
        /// The collectors and the syslog listener, for those the configuration enables.
        public var detections: Bool
        /// Socket Mode's timings (its connection count comes from the configuration).
        public var socketMode: SocketModeSettings

        public init(
            runnerPollInterval: Duration = .seconds(1), timerInterval: Duration = .seconds(1), detections: Bool = true,
            socketMode: SocketModeSettings = SocketModeSettings()
        ) {
            self.runnerPollInterval = runnerPollInterval
            self.timerInterval = timerInterval
            self.detections = detections
            self.socketMode = socketMode
        }
    }

    public let server: SentryServer
    /// Slack's callbacks over Socket Mode; nil without `SLACK_APP_TOKEN`.
    public let socketMode: SocketModeClient?
    /// nil when `Options.detections` is off.
    public let detection: DetectionServices?
    /// Elects the replica that runs the pollers.
    public let elector: LeaderElector

    public init(
        configuration: ServerConfiguration, playbooks: [Playbook], store: any SentryStorage, transport base: any HTTPTransport,
        metrics: ServerMetrics = ServerMetrics(), logger: Logger, options: Options = Options()
    ) async throws {
        let transport = MeteredTransport(base: base, metrics: metrics, configuration: configuration)
        let slack = SlackClient(
            transport: transport, baseURL: configuration.slackAPIURL, token: configuration.slackBotToken,
            sleep: metrics.meteredSleep(limiter: "slack_retry"), logger: logger)
        // One budget for the organisation: containment and the uplink collector share Meraki's 10 requests/s.
        let merakiBudget = TokenBucket(capacity: 10, refillPerSecond: 10, onWait: metrics.waitRecorder(limiter: "meraki"))
        let server = SentryServer(
            configuration: configuration, catalog: PlaybookCatalog(playbooks), store: store, slack: slack, metrics: metrics, logger: logger,
            runnerPollInterval: options.runnerPollInterval, timerInterval: options.timerInterval,
            containment: LiveContainmentExecutor.make(
                configuration: configuration, transport: transport, journal: store, logger: logger, merakiBudget: merakiBudget,
                metrics: metrics),
            uplinks: configuration.merakiAPIKey.flatMap { key in
                configuration.merakiOrgID.map { organization in
                    MerakiUplinkLookup(
                        client: MerakiClient(
                            transport: transport, baseURL: configuration.merakiAPIURL, apiKey: key, organizationID: organization,
                            limiter: merakiBudget, sleep: metrics.meteredSleep(limiter: "meraki_retry"), logger: logger))
                }
            })
        self.server = server
        if let appToken = configuration.slackAppToken, let status = server.context.socketMode {
            var settings = options.socketMode
            settings.connections = configuration.slackSocketConnections
            self.socketMode = SocketModeClient(
                opener: SlackClient(
                    transport: transport, baseURL: configuration.slackAPIURL, token: appToken,
                    sleep: metrics.meteredSleep(limiter: "slack_retry"), logger: logger),
                answerer: SlackController(context: server.context), slack: slack, settings: settings, metrics: metrics, status: status,
                logger: logger)
        } else {
            self.socketMode = nil
        }
        guard options.detections else {
            self.detection = nil
            self.elector = Self.elector(server: server, store: store, detection: nil, logger: logger)
            return
        }
        let detection = try await DetectionServices.make(
            configuration: configuration, playbooks: playbooks, store: store, transport: transport, merakiBudget: merakiBudget,
            metrics: metrics, logger: logger, onAlerts: { server.context.wake() })
        self.detection = detection
        self.elector = Self.elector(server: server, store: store, detection: detection, logger: logger)
    }

    /// The pollers run on the elected replica only; each term counts on from the store's windows first.
    static func elector(server: SentryServer, store: any SentryStorage, detection: DetectionServices?, logger: Logger) -> LeaderElector {
        let status = server.context.leadership
        return LeaderElector(
            store: store, takeOver: !store.isShared, holder: status.holder, clock: server.context.clock, logger: logger,
            onChange: { status.leading = $0 }
        ) {
            guard let detection, !detection.pollers.isEmpty else { return }
            do { try await detection.pipeline.reload() } catch {
                logger.error("could not read the rule windows; the pollers start from what this replica counted", metadata: ["error": "\(error)"])
            }
            await LeaderElector.runAll(detection.pollers, logger: logger)
        }
    }

    /// The HTTP server with the runner, the timers and the detections as services; `onRunning` receives the port.
    public func application(
        stoppingLast: [any Service] = [], onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let socket: [any Service] = socketMode.map { [$0] } ?? []
        var services = socket + [elector] + (detection?.listeners ?? [])
        if let notifying = server.context.store as? any WorkNotifying {
            let runner = server.runner
            let home = server.context.home
            // Work another replica queued: this one's runner may take it, and the tabs opened here may show it.
            services.append(
                WorkListener(
                    source: notifying,
                    wake: {
                        runner.wake()
                        home.changed()
                    }))
        }
        return server.application(stoppingLast: stoppingLast, extraServices: services, onRunning: onRunning)
    }
}
