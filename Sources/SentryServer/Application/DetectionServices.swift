import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryDetect
import SentryStore
import ServiceLifecycle

/// The built-in detections as services: the rule pipeline and whichever collectors are configured.
public struct DetectionServices: Sendable {
    public let pipeline: DetectionPipeline
    /// The collectors that poll an API: one replica runs them (the leader; see `LeaderElector`).
    public let pollers: [any Service]
    /// What listens for pushed events (syslog): every replica runs them; the store drops repeated event ids.
    public let listeners: [any Service]
    public var services: [any Service] { pollers + listeners }
    /// Start-up notes ("Slack audit collector polling every 60 s", or why one is off).
    public let notes: [String]

    public static func make(
        configuration: ServerConfiguration, playbooks: [Playbook], store: any SentryStorage, transport: any HTTPTransport,
        merakiBudget: TokenBucket, metrics: ServerMetrics, logger: Logger, onAlerts: @escaping @Sendable () -> Void
    ) async throws -> DetectionServices {
        let pipeline = try await DetectionPipeline(
            playbooks: playbooks, store: store, channel: configuration.slackAlertChannel, now: { Date() }, logger: logger,
            maxLateness: configuration.maxLateness, dryRun: configuration.dryRun, onAlerts: onAlerts)
        var services: [any Service] = []
        var listeners: [any Service] = []
        var notes: [String] = []
        if let token = configuration.slackAdminToken {
            let client = SlackAuditClient(
                transport: transport, baseURL: configuration.slackAuditURL, token: token,
                budget: SlackAuditClient.organizationBudget(onWait: metrics.waitRecorder(limiter: "slack_audit")),
                sleep: metrics.meteredSleep(limiter: "slack_audit_retry"), logger: logger)
            let collector = SlackAuditCollector(
                source: client, store: store, sink: pipeline,
                configuration: .init(interval: .seconds(configuration.slackAuditInterval)), logger: logger)
            metrics.addCollector("slack_audit") {
                let stats = await collector.stats
                return .init(
                    succeededPolls: stats.succeededPolls, failedPolls: stats.failedPolls, events: stats.delivered, lastSuccessAt: stats.lastSuccessAt,
                    lag: stats.lag, lastError: stats.lastError)
            }
            services.append(collector)
            notes.append("Slack audit-log collector polls every \(configuration.slackAuditInterval) s")
        }
        if let key = configuration.merakiAPIKey, let organization = configuration.merakiOrgID {
            let client = MerakiClient(
                transport: transport, baseURL: configuration.merakiAPIURL, apiKey: key, organizationID: organization, limiter: merakiBudget,
                sleep: metrics.meteredSleep(limiter: "meraki_retry"), logger: logger)
            let collector = MerakiUplinkCollector(
                source: client, store: store, sink: pipeline, interval: .seconds(configuration.merakiInterval), logger: logger)
            metrics.addCollector("meraki_uplinks") {
                let stats = collector.statistics
                return .init(
                    succeededPolls: stats.succeededPolls, failedPolls: stats.failedPolls, events: stats.eventsDelivered,
                    lastSuccessAt: stats.lastSuccessAt,
                    // The error of the last poll only, when it is the newest news.
                    lastError: (stats.lastFailureAt ?? .distantPast) > (stats.lastSuccessAt ?? .distantPast) ? stats.lastError : nil)
            }
            services.append(collector)
            notes.append("Meraki uplink collector polls every \(configuration.merakiInterval) s")
        }
        var syslog = SyslogListener.Configuration()
        if let udp = configuration.syslogUDP { syslog.udp = try SyslogEndpoint(parsing: udp) }
        if let tcp = configuration.syslogTCP { syslog.tcp = try SyslogEndpoint(parsing: tcp) }
        if syslog.udp != nil || syslog.tcp != nil {
            var sink: any EventSink = pipeline
            if let key = configuration.merakiAPIKey, let organization = configuration.merakiOrgID {
                // Few attempts, short timeout: a syslog batch waits for this read, and a failed one is tried again
                // a minute later anyway.
                let client = MerakiClient(
                    transport: transport, baseURL: configuration.merakiAPIURL, apiKey: key, organizationID: organization, limiter: merakiBudget,
                    retry: RetryPolicy(maxAttempts: 2), requestTimeout: .seconds(10), sleep: metrics.meteredSleep(limiter: "meraki_retry"),
                    logger: logger)
                sink = DeviceNameMappingSink(inner: pipeline, directory: CachedApplianceDirectory(inventory: client, logger: logger), logger: logger)
                notes.append("syslog device names are mapped to serials through the organisation's device list")
            } else {
                notes.append("syslog alerts name devices as the MX does (no MERAKI_API_KEY and MERAKI_ORG_ID to map names to serials)")
            }
            let listener = SyslogListener(configuration: syslog, sink: sink, logger: logger)
            metrics.addCollector("syslog") {
                let counters = listener.counters
                return .init(events: counters.delivered, dropped: counters.dropped, lastSuccessAt: nil)
            }
            listeners.append(listener)
            notes.append(
                "syslog listener on \([configuration.syslogUDP.map { "udp \($0)" }, configuration.syslogTCP.map { "tcp \($0)" }].compactMap { $0 }.joined(separator: ", "))"
            )
        }
        return DetectionServices(pipeline: pipeline, pollers: services, listeners: listeners, notes: notes)
    }
}
