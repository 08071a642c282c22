import Foundation
import SentryServer
import Testing

@Suite struct ServerConfigurationTests {
    static let minimal = ["SLACK_SIGNING_SECRET": "s3cr3t-signing-value", "SLACK_BOT_TOKEN": "xoxb-1-abc"]

    @Test func defaultsMatchTheDesign() throws {
        let configuration = try ServerConfiguration.load(environment: Self.minimal).get()
        #expect(configuration.database == .sqlite(path: "sentry.db"))
        #expect(configuration.playbooksDirectory == "Playbooks")
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 8080)
        #expect(configuration.dryRun == false)
        #expect(configuration.slackAPIURL == "https://slack.com/api")
        #expect(configuration.slackSCIMURL == "https://api.slack.com/scim/v2")
        #expect(configuration.slackAuditURL == "https://api.slack.com/audit/v1")
        #expect(configuration.merakiAPIURL == "https://api.meraki.com/api/v1")
        #expect(configuration.slackAuditInterval == 60)
        #expect(configuration.merakiInterval == 60)
        #expect(configuration.minTTL == 60)
        #expect(configuration.maxTTL == 2_592_000)
        #expect(configuration.logLevel == "info")
        #expect(configuration.logFormat == "text")
        #expect(configuration.shutdownTimeout == 10)
        #expect(configuration.responders.isEmpty)
        #expect(configuration.disabledFeatures.contains { $0.contains("SLACK_ADMIN_TOKEN") })
        #expect(configuration.disabledFeatures.contains { $0.contains("POST /hooks/detections answers 404") })
    }

    @Test func missingRequiredVariablesAreNamedOneLineEach() throws {
        guard case .failure(let problems) = ServerConfiguration.load(environment: [:]) else {
            Issue.record("an empty environment was accepted")
            return
        }
        #expect(problems.lines.count == 2)
        #expect(problems.lines[0].hasPrefix("SLACK_SIGNING_SECRET is required"))
        #expect(problems.lines[1].hasPrefix("SLACK_BOT_TOKEN is required"))
        #expect(problems.lines.allSatisfy { !$0.contains("\n") })
    }

    static let malformed: [(String, String, String)] = [
        ("SENTRY_HTTP_PORT", "http", "SENTRY_HTTP_PORT must be a whole number"),
        ("SENTRY_HTTP_PORT", "70000", "SENTRY_HTTP_PORT must be a whole number"),
        ("SLACK_ALERT_CHANNEL", "#security", "SLACK_ALERT_CHANNEL must be a channel id"),
        ("SLACK_RESPONDERS", "U0ALICE,bob", "SLACK_RESPONDERS has 'bob'"),
        ("SENTRY_DATABASE_URL", "mysql://x", "SENTRY_DATABASE_URL must be"),
        ("SENTRY_DRY_RUN", "yes", "SENTRY_DRY_RUN must be 0 or 1"),
        ("SLACK_API_URL", "slack.com/api", "SLACK_API_URL must be an http(s) URL"),
        ("SENTRY_LOG_LEVEL", "loud", "SENTRY_LOG_LEVEL must be one of"),
        ("SENTRY_LOG_FORMAT", "xml", "SENTRY_LOG_FORMAT must be text or json"),
        ("SENTRY_MIN_TTL", "0", "SENTRY_MIN_TTL must be a whole number"),
        ("SENTRY_SHUTDOWN_TIMEOUT", "0", "SENTRY_SHUTDOWN_TIMEOUT must be a whole number"),
        ("SENTRY_SHUTDOWN_TIMEOUT", "10s", "SENTRY_SHUTDOWN_TIMEOUT must be a whole number"),
        ("SENTRY_SYSLOG_UDP", "nohost", "SENTRY_SYSLOG_UDP must be host:port"),
        ("SENTRY_MAX_LATENESS", "3600", "SENTRY_MAX_LATENESS must be a duration between 2m and 7d"),
        ("SENTRY_MAX_LATENESS", "1m", "SENTRY_MAX_LATENESS must be a duration between 2m and 7d"),
        ("SENTRY_MAX_LATENESS", "30d", "SENTRY_MAX_LATENESS must be a duration between 2m and 7d"),
        ("SENTRY_RETENTION", "400", "SENTRY_RETENTION must be a duration between 1d and 3650d"),
        ("SENTRY_RETENTION", "12h", "SENTRY_RETENTION must be a duration between 1d and 3650d"),
        ("SENTRY_RETENTION", "4000d", "SENTRY_RETENTION must be a duration between 1d and 3650d"),
        ("SENTRY_HTTP_IDLE_TIMEOUT", "0", "SENTRY_HTTP_IDLE_TIMEOUT must be a whole number"),
        ("SENTRY_SQLITE_COMMIT_BATCH", "0", "SENTRY_SQLITE_COMMIT_BATCH must be a whole number from 1 to 1024"),
        ("SENTRY_SQLITE_COMMIT_BATCH", "many", "SENTRY_SQLITE_COMMIT_BATCH must be a whole number from 1 to 1024"),
        ("MERAKI_API_KEY", "0123456789abcdef", "MERAKI_API_KEY and MERAKI_ORG_ID must be set together"),
        ("SLACK_ADMIN_TOKEN", "xoxb-not-admin-secret", "SLACK_ADMIN_TOKEN must be an org-admin user token"),
    ]

    @Test(arguments: malformed)
    func malformedValuesAreNamed(_ name: String, _ value: String, _ message: String) throws {
        var environment = Self.minimal
        environment[name] = value
        guard case .failure(let problems) = ServerConfiguration.load(environment: environment) else {
            Issue.record("\(name)=\(value) was accepted")
            return
        }
        #expect(problems.lines.count == 1)
        #expect(problems.lines.first?.hasPrefix(message) == true, "\(problems.lines)")
    }

    @Test func secretsAreNeverEchoed() throws {
        let environment = [
            "SLACK_SIGNING_SECRET": "s3cr3t-signing-value", "SLACK_BOT_TOKEN": "not-a-bot-token-s3cr3t",
            "SLACK_ADMIN_TOKEN": "admin-s3cr3t", "MERAKI_API_KEY": "meraki-s3cr3t",
        ]
        guard case .failure(let problems) = ServerConfiguration.load(environment: environment) else {
            Issue.record("bad tokens were accepted")
            return
        }
        #expect(problems.lines.count == 3)
        #expect(!problems.description.contains("s3cr3t"))
    }

    @Test func latenessAndIdleTimeoutParse() throws {
        #expect(try ServerConfiguration.load(environment: Self.minimal).get().maxLateness == 3_600)
        #expect(try ServerConfiguration.load(environment: Self.minimal).get().httpIdleTimeout == 30)
        var environment = Self.minimal
        environment["SENTRY_MAX_LATENESS"] = "90m"
        environment["SENTRY_HTTP_IDLE_TIMEOUT"] = "5"
        let configuration = try ServerConfiguration.load(environment: environment).get()
        #expect(configuration.maxLateness == 5_400)
        #expect(configuration.httpIdleTimeout == 5)
    }

    @Test func commitBatchIsSixtyFourUnlessSet() throws {
        #expect(try ServerConfiguration.load(environment: Self.minimal).get().sqliteCommitBatch == 64)
        var environment = Self.minimal
        environment["SENTRY_SQLITE_COMMIT_BATCH"] = "1"
        #expect(try ServerConfiguration.load(environment: environment).get().sqliteCommitBatch == 1)
    }

    @Test func retentionIsFourHundredDaysUnlessSet() throws {
        #expect(try ServerConfiguration.load(environment: Self.minimal).get().retention == 400 * 86_400)
        var environment = Self.minimal
        environment["SENTRY_RETENTION"] = "90d"
        #expect(try ServerConfiguration.load(environment: environment).get().retention == 90 * 86_400)
    }

    @Test func sqliteAndListsParse() throws {
        var environment = Self.minimal
        environment["SENTRY_DATABASE_URL"] = "sqlite:/var/lib/sentry/sentry.db"
        environment["SLACK_RESPONDERS"] = " U0ALICE , S0ONCALL ,W0BOB "
        environment["MERAKI_NETWORKS"] = "N_1, N_2"
        environment["SLACK_API_URL"] = "http://127.0.0.1:9000/api/"
        let configuration = try ServerConfiguration.load(environment: environment).get()
        #expect(configuration.database == .sqlite(path: "/var/lib/sentry/sentry.db"))
        #expect(configuration.responders == ["U0ALICE", "S0ONCALL", "W0BOB"])
        #expect(configuration.merakiNetworks == ["N_1", "N_2"])
        #expect(configuration.slackAPIURL == "http://127.0.0.1:9000/api")
    }
}
