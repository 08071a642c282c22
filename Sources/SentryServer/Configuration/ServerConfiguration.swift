import Foundation
import SentryCore
import SentryStore

/// Where the database lives (`SENTRY_DATABASE_URL`).
public enum DatabaseLocation: Equatable, Sendable {
    case sqlite(path: String)
    case postgres(url: String)
}

extension DatabaseLocation {
    /// `SENTRY_DATABASE_URL`: `sqlite:PATH` (also `sqlite://PATH`) or `postgres://…`; nil means the default.
    public static func parse(_ raw: String?) -> Result<DatabaseLocation, ServerConfiguration.Problems> {
        guard let raw = raw?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return .success(.sqlite(path: "sentry.db")) }
        if raw.hasPrefix("sqlite:") {
            var path = String(raw.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else {
                return .failure(.init(lines: ["SENTRY_DATABASE_URL sqlite: needs a file path, as in sqlite:/var/lib/sentry/sentry.db"]))
            }
            return .success(.sqlite(path: path))
        }
        if raw.hasPrefix("postgres://") || raw.hasPrefix("postgresql://") { return .success(.postgres(url: raw)) }
        return .failure(.init(lines: ["SENTRY_DATABASE_URL must be sqlite:PATH or postgres://…"]))
    }
}

/// Every setting of DESIGN.md §4.2, read once at start-up. No other component reads the environment.
public struct ServerConfiguration: Sendable {
    /// `SLACK_SIGNING_SECRET`: required for HTTP callbacks; optional, and nil when unset, over Socket Mode
    /// (`SLACK_APP_TOKEN`), where no signed callback arrives.
    public var slackSigningSecret: String?
    public var slackBotToken: String
    public var slackAdminToken: String?
    public var slackAlertChannel: String?
    public var responders: [String]
    public var merakiAPIKey: String?
    public var merakiOrgID: String?
    public var webhookSecret: String?
    public var webhookToken: String?
    public var database: DatabaseLocation
    public var playbooksDirectory: String
    public var host: String
    public var port: Int
    public var dryRun: Bool
    public var slackAPIURL: String
    public var slackSCIMURL: String
    public var slackAuditURL: String
    public var merakiAPIURL: String
    public var slackAuditInterval: Int
    public var merakiInterval: Int
    public var merakiNetworks: [String]
    public var syslogUDP: String?
    public var syslogTCP: String?
    public var minTTL: Int
    public var maxTTL: Int
    public var logLevel: String
    public var logFormat: String
    /// Seconds SIGTERM/SIGINT may take: in-flight requests and running effects finish within it; after it,
    /// what still runs is cancelled and stays in the outbox for the next start.
    public var shutdownTimeout: Int
    /// How late (seconds) a collected event may arrive and still be counted in the window it belongs to.
    public var maxLateness: Int = 3_600
    /// Seconds a claimed effect stays one runner's without a renewal (`SENTRY_EFFECT_LEASE`); a dead replica's
    /// effects are taken over after it.
    public var effectLease: Int = 30
    /// Seconds a connection may send nothing while a request is being read (a stalled or slow-drip body) before it
    /// is closed; requests being answered are never cut.
    public var httpIdleTimeout: Int = 30
    /// A file holding the PostgreSQL password (`SENTRY_DATABASE_PASSWORD_FILE`), read when the store opens.
    public var databasePasswordFile: String?
    /// `SENTRY_RETENTION` (seconds): finished alerts closed longer ago are removed, their audit entries kept.
    public var retention: Int = Retention.defaultSeconds
    /// `SENTRY_SQLITE_COMMIT_BATCH`: the most concurrent transactions one SQLite COMMIT carries (1: each commits alone).
    public var sqliteCommitBatch: Int = CommitQueue.defaultLimit
    /// `SENTRY_DIGEST` (`mon 09:00`, the server's zone): when the weekly digest goes to the alert channel; nil: off.
    public var digest: DigestSchedule?
    /// `SLACK_APP_TOKEN` (`xapp-…`): when set, Slack's callbacks arrive over Socket Mode and `/slack/*` answer 404.
    public var slackAppToken: String?
    /// `SLACK_SOCKET_CONNECTIONS`: the Socket Mode sockets this process keeps open (1…10).
    public var slackSocketConnections: Int = 2

    /// Settings problems, one line each, naming the variable and never echoing a secret.
    public struct Problems: Error, Equatable, CustomStringConvertible {
        public var lines: [String]
        public var description: String { lines.joined(separator: "\n") }
    }

    static let secretNames: Set<String> = [
        "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SLACK_ADMIN_TOKEN", "MERAKI_API_KEY", "SENTRY_WEBHOOK_SECRET",
        "SENTRY_WEBHOOK_TOKEN", "SLACK_APP_TOKEN",
    ]

    public static func load(environment env: [String: String]) -> Result<ServerConfiguration, Problems> {
        var problems: [String] = []
        func value(_ name: String) -> String? {
            guard let raw = env[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty else { return nil }
            return raw
        }
        func required(_ name: String, _ hint: String) -> String {
            guard let raw = value(name) else {
                problems.append("\(name) is required: \(hint)")
                return ""
            }
            return raw
        }
        func show(_ name: String, _ raw: String) -> String {
            secretNames.contains(name) ? "(value hidden)" : "'\(raw.prefix(80))'"
        }
        func url(_ name: String, default fallback: String) -> String {
            guard let raw = value(name) else { return fallback }
            guard let parsed = URL(string: raw), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
                problems.append("\(name) must be an http(s) URL such as \(fallback), got \(show(name, raw))")
                return fallback
            }
            return raw.hasSuffix("/") ? String(raw.dropLast()) : raw
        }
        func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) -> Int {
            guard let raw = value(name) else { return fallback }
            guard let number = Int(raw), range.contains(number) else {
                problems.append("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got \(show(name, raw))")
                return fallback
            }
            return number
        }
        func hostPort(_ name: String) -> String? {
            guard let raw = value(name) else { return nil }
            guard let colon = raw.lastIndex(of: ":"), let port = Int(raw[raw.index(after: colon)...]), (1...65535).contains(port),
                colon != raw.startIndex
            else {
                problems.append("\(name) must be host:port such as 0.0.0.0:5514, got \(show(name, raw))")
                return nil
            }
            return raw
        }

        let appToken = value("SLACK_APP_TOKEN")
        // Over Socket Mode Slack sends no signed HTTP callback (`/slack/*` answer 404): nothing to verify.
        let signingSecret =
            appToken != nil
            ? value("SLACK_SIGNING_SECRET") : required("SLACK_SIGNING_SECRET", "the Signing Secret from your Slack app's Basic Information page")
        let botToken = required("SLACK_BOT_TOKEN", "the Bot User OAuth Token (xoxb-…) from your Slack app's OAuth & Permissions page")
        if !botToken.isEmpty, !botToken.hasPrefix("xoxb-") {
            problems.append("SLACK_BOT_TOKEN must be a bot token starting with xoxb- (value hidden)")
        }
        let adminToken = value("SLACK_ADMIN_TOKEN")
        if let adminToken, !adminToken.hasPrefix("xoxp-") {
            problems.append("SLACK_ADMIN_TOKEN must be an org-admin user token starting with xoxp- (value hidden)")
        }
        if let appToken, !appToken.hasPrefix("xapp-") {
            problems.append(
                "SLACK_APP_TOKEN must be an app-level token starting with xapp- (Basic Information > App-Level Tokens, scope connections:write) (value hidden)"
            )
        }
        let channel = value("SLACK_ALERT_CHANNEL")
        if let channel, !SlackID.isChannel(channel) {
            problems.append("SLACK_ALERT_CHANNEL must be a channel id such as C0123456789 (not a #name), got \(show("SLACK_ALERT_CHANNEL", channel))")
        }
        var responders: [String] = []
        if let raw = value("SLACK_RESPONDERS") {
            for item in raw.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
                if SlackID.isUser(item) || SlackID.isUserGroup(item) {
                    responders.append(item)
                } else {
                    problems.append("SLACK_RESPONDERS has '\(item.prefix(40))', which is not a Slack user id (U…/W…) or user-group id (S…)")
                }
            }
        }
        let merakiKey = value("MERAKI_API_KEY")
        let merakiOrg = value("MERAKI_ORG_ID")
        if (merakiKey == nil) != (merakiOrg == nil) {
            problems.append("MERAKI_API_KEY and MERAKI_ORG_ID must be set together (only one of them is set)")
        }

        var database = DatabaseLocation.sqlite(path: "sentry.db")
        switch DatabaseLocation.parse(value("SENTRY_DATABASE_URL")) {
        case .success(let location): database = location
        case .failure(let problem): problems.append(problem.lines[0])
        }
        let host = value("SENTRY_HTTP_HOST") ?? "0.0.0.0"
        if IPAddress(host) == nil, host != "localhost",
            !host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) || host.isEmpty
        {
            problems.append("SENTRY_HTTP_HOST must be an IP address or host name such as 0.0.0.0, got '\(host.prefix(60))'")
        }

        let dryRunRaw = value("SENTRY_DRY_RUN") ?? "0"
        if !["0", "1"].contains(dryRunRaw) {
            problems.append("SENTRY_DRY_RUN must be 0 or 1, got '\(dryRunRaw.prefix(20))'")
        }
        let logLevel = (value("SENTRY_LOG_LEVEL") ?? "info").lowercased()
        if !["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) {
            problems.append("SENTRY_LOG_LEVEL must be one of debug, info, notice, warning, error, got '\(logLevel.prefix(20))'")
        }
        let logFormat = (value("SENTRY_LOG_FORMAT") ?? "text").lowercased()
        if !["text", "json"].contains(logFormat) {
            problems.append("SENTRY_LOG_FORMAT must be text or json, got '\(logFormat.prefix(20))'")
        }
        let minTTL = integer("SENTRY_MIN_TTL", default: 60, range: 1...31_536_000)
        let maxTTL = integer("SENTRY_MAX_TTL", default: 2_592_000, range: 1...31_536_000)
        if minTTL > maxTTL {
            problems.append("SENTRY_MIN_TTL (\(minTTL)) must not be larger than SENTRY_MAX_TTL (\(maxTTL))")
        }

        // Late entries: the audit collector re-reads 2 minutes back, so anything shorter would miss its own overlap.
        var maxLateness = 3_600
        if let raw = value("SENTRY_MAX_LATENESS") {
            if let seconds = DurationText.parse(raw), (120...7 * 86_400).contains(seconds) {
                maxLateness = seconds
            } else {
                problems.append("SENTRY_MAX_LATENESS must be a duration between 2m and 7d such as 1h, got '\(raw.prefix(20))'")
            }
        }

        var retention = Retention.defaultSeconds
        if let raw = value("SENTRY_RETENTION") {
            if let seconds = DurationText.parse(raw), Retention.allowed.contains(seconds) {
                retention = seconds
            } else {
                problems.append("\(Retention.problem), got '\(raw.prefix(20))'")
            }
        }

        var configuration = ServerConfiguration(
            slackSigningSecret: signingSecret, slackBotToken: botToken, slackAdminToken: adminToken,
            slackAlertChannel: channel, responders: responders, merakiAPIKey: merakiKey, merakiOrgID: merakiOrg,
            webhookSecret: value("SENTRY_WEBHOOK_SECRET"), webhookToken: value("SENTRY_WEBHOOK_TOKEN"),
            database: database, playbooksDirectory: value("SENTRY_PLAYBOOKS") ?? "Playbooks",
            host: host,
            port: integer("SENTRY_HTTP_PORT", default: 8080, range: 0...65535),
            dryRun: dryRunRaw == "1",
            slackAPIURL: url("SLACK_API_URL", default: "https://slack.com/api"),
            slackSCIMURL: url("SLACK_SCIM_URL", default: "https://api.slack.com/scim/v2"),
            slackAuditURL: url("SLACK_AUDIT_URL", default: "https://api.slack.com/audit/v1"),
            merakiAPIURL: url("MERAKI_API_URL", default: "https://api.meraki.com/api/v1"),
            slackAuditInterval: integer("SENTRY_SLACK_AUDIT_INTERVAL", default: 60, range: 5...86_400),
            merakiInterval: integer("SENTRY_MERAKI_INTERVAL", default: 60, range: 5...86_400),
            merakiNetworks: value("MERAKI_NETWORKS").map {
                $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            } ?? [],
            syslogUDP: hostPort("SENTRY_SYSLOG_UDP"), syslogTCP: hostPort("SENTRY_SYSLOG_TCP"),
            minTTL: minTTL, maxTTL: maxTTL, logLevel: logLevel, logFormat: logFormat,
            shutdownTimeout: integer("SENTRY_SHUTDOWN_TIMEOUT", default: 10, range: 1...600))
        configuration.maxLateness = maxLateness
        configuration.retention = retention
        configuration.httpIdleTimeout = integer("SENTRY_HTTP_IDLE_TIMEOUT", default: 30, range: 1...3_600)
        configuration.effectLease = integer("SENTRY_EFFECT_LEASE", default: 30, range: 3...600)
        configuration.sqliteCommitBatch = integer("SENTRY_SQLITE_COMMIT_BATCH", default: CommitQueue.defaultLimit, range: 1...1_024)
        configuration.databasePasswordFile = value("SENTRY_DATABASE_PASSWORD_FILE")
        if configuration.databasePasswordFile != nil, case .sqlite = database {
            problems.append("SENTRY_DATABASE_PASSWORD_FILE is for PostgreSQL, but SENTRY_DATABASE_URL names a SQLite file")
        }
        configuration.slackAppToken = appToken
        if let raw = value("SENTRY_DIGEST") {
            if let schedule = DigestSchedule(parsing: raw) {
                configuration.digest = schedule
                if channel == nil { problems.append("SENTRY_DIGEST is set but SLACK_ALERT_CHANNEL is not: the digest goes to the alert channel") }
            } else {
                problems.append("\(DigestSchedule.problem), got \(show("SENTRY_DIGEST", raw))")
            }
        }
        // Slack allows 10 sockets per app, across every process.
        configuration.slackSocketConnections = integer("SLACK_SOCKET_CONNECTIONS", default: 2, range: 1...10)
        return problems.isEmpty ? .success(configuration) : .failure(Problems(lines: problems))
    }

    /// Whether the service a kind of containment acts through is configured (`ContainmentAction.Kind.requiredSettings`).
    public func canContain(_ kind: ContainmentAction.Kind) -> Bool {
        switch kind {
        case .blockUser: slackAdminToken != nil
        case .blockIP, .approvedOnly: merakiAPIKey != nil
        }
    }

    /// Start-up notes about features that are off, said once so nobody wonders at 3 a.m.
    public var disabledFeatures: [String] {
        var notes: [String] = []
        if slackAdminToken == nil { notes.append("SLACK_ADMIN_TOKEN is not set: block-user and the Slack audit-log collector are disabled") }
        if merakiAPIKey == nil { notes.append("MERAKI_API_KEY/MERAKI_ORG_ID are not set: Meraki features are disabled") }
        if webhookSecret == nil && webhookToken == nil {
            notes.append("SENTRY_WEBHOOK_SECRET/SENTRY_WEBHOOK_TOKEN are not set: POST /hooks/detections answers 404")
        }
        if responders.isEmpty {
            notes.append(
                "SLACK_RESPONDERS is not set: nobody may run containment actions; anyone in the alert channel may acknowledge, resolve or dismiss")
        }
        if slackAppToken != nil {
            notes.append(
                "SLACK_APP_TOKEN is set: Slack callbacks arrive over Socket Mode (\(slackSocketConnections) connections); POST /slack/commands, /slack/interactivity and /slack/events answer 404"
            )
        }
        if dryRun { notes.append("SENTRY_DRY_RUN=1: containment is recorded and shown, never executed") }
        return notes
    }
}
