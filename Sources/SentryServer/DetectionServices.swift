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
    public let services: [any Service]
    /// Start-up notes ("Slack audit collector polling every 60 s", or why one is off).
    public let notes: [String]

    public static func make(
        configuration: ServerConfiguration, playbooks: [Playbook], store: SQLiteAlertStore, transport: any HTTPTransport,
        merakiBudget: TokenBucket, logger: Logger, onAlerts: @escaping @Sendable () -> Void
    ) async throws -> DetectionServices {
        let pipeline = try await DetectionPipeline(
            playbooks: playbooks, store: store, channel: configuration.slackAlertChannel, now: { Date() }, logger: logger, onAlerts: onAlerts)
        var services: [any Service] = []
        var notes: [String] = []
        if let token = configuration.slackAdminToken {
            let client = SlackAuditClient(
                transport: transport, baseURL: configuration.slackAuditURL, token: token, budget: SlackAuditClient.organizationBudget(), logger: logger)
            services.append(SlackAuditCollector(
                source: client, store: store, sink: pipeline,
                configuration: .init(interval: .seconds(configuration.slackAuditInterval)), logger: logger))
            notes.append("Slack audit-log collector polls every \(configuration.slackAuditInterval) s")
        }
        if let key = configuration.merakiAPIKey, let organization = configuration.merakiOrgID {
            let client = MerakiClient(
                transport: transport, baseURL: configuration.merakiAPIURL, apiKey: key, organizationID: organization, limiter: merakiBudget,
                logger: logger)
            services.append(MerakiUplinkCollector(
                source: client, store: store, sink: pipeline, interval: .seconds(configuration.merakiInterval), logger: logger))
            notes.append("Meraki uplink collector polls every \(configuration.merakiInterval) s")
        }
        var syslog = SyslogListener.Configuration()
        if let udp = configuration.syslogUDP { syslog.udp = try SyslogEndpoint(parsing: udp) }
        if let tcp = configuration.syslogTCP { syslog.tcp = try SyslogEndpoint(parsing: tcp) }
        if syslog.udp != nil || syslog.tcp != nil {
            services.append(SyslogListener(configuration: syslog, sink: pipeline, logger: logger))
            notes.append("syslog listener on \([configuration.syslogUDP.map { "udp \($0)" }, configuration.syslogTCP.map { "tcp \($0)" }].compactMap { $0 }.joined(separator: ", "))")
        }
        return DetectionServices(pipeline: pipeline, services: services, notes: notes)
    }
}
