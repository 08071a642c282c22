import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

/// `buildApplication(configuration:logger:)`, the wiring `sentry serve` runs, in process.
@Suite struct ServerBuildApplicationTests {
    static let playbooks = ServerBinaryTests.root.appendingPathComponent("Playbooks").path
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func configuration(_ extra: [String: String] = [:]) throws -> ServerConfiguration {
        var environment = [
            "SLACK_SIGNING_SECRET": ServerHarness.signingSecret, "SLACK_BOT_TOKEN": ServerHarness.botToken,
            "SLACK_ALERT_CHANNEL": ServerHarness.channel, "SENTRY_WEBHOOK_TOKEN": ServerHarness.webhookToken,
            "SENTRY_HTTP_HOST": "127.0.0.1", "SENTRY_HTTP_PORT": "0", "SENTRY_PLAYBOOKS": Self.playbooks,
            "SLACK_API_URL": "http://127.0.0.1:9/api",
        ]
        for (key, value) in extra { environment[key] = value.isEmpty ? nil : value }
        return try ServerConfiguration.load(environment: environment).get()
    }

    @Test func everyEndpointGroupAnswersBehindItsMiddleware() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-build-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = try configuration(["SENTRY_DATABASE_URL": "sqlite:\(folder.path)/sentry.db"])
        let logger = logger
        let app = try await RunningApplication.start { try await buildApplication(configuration: configuration, logger: logger, onRunning: $0) }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let client = LoopbackClient(baseURL: "http://127.0.0.1:\(app.port)", transport: transport, slackSecret: ServerHarness.signingSecret)

        let ready = try await client.send("GET", "/readyz")
        #expect(ready.status == 200)
        // The second line says who runs the pollers: on one SQLite file, this process once its first election is done.
        let lines = ready.text.split(separator: "\n")
        #expect(lines.first == "ready: 13 playbooks")
        #expect(lines.count == 2)
        #expect(lines.last?.hasPrefix("pollers: ") == true)
        #expect(try await client.send("GET", "/healthz").text == "ok\n")
        let unsigned = try await client.send("POST", "/slack/commands", body: Array("text=help".utf8))
        #expect(unsigned.status == 401)
        #expect(try await client.slack("/slack/commands", form: "command=%2Fsentry&text=help&user_id=U0ALICE&channel_id=C0X").status == 200)
        #expect(try await client.send("POST", "/hooks/detections", body: Array("{}".utf8)).status == 401)
        let metrics = try await client.send("GET", "/metrics")
        #expect(metrics.text.contains(#"sentry_http_requests_total{endpoint="slack_commands",status="401"} 1"#))
        #expect(metrics.text.contains(#"sentry_http_requests_total{endpoint="hooks_detections",status="401"} 1"#))
        await app.stop()
    }

    @Test func whatStopsStartUpIsOneLinePerProblem() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-build-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        try "id: orphan\ntitle: Orphan\ndetection: x.y\nseverity: low\n".write(
            to: empty.appendingPathComponent("orphan.yml"), atomically: true, encoding: .utf8)
        let cases: [([String: String], String)] = [
            // PostgreSQL needs its pool running first: `sentry serve` opens it and passes the store in.
            (["SENTRY_DATABASE_URL": "postgres://sentry@db/sentry"], "SENTRY_DATABASE_URL: a PostgreSQL store must be opened by the caller"),
            (["SENTRY_PLAYBOOKS": empty.path, "SLACK_ALERT_CHANNEL": ""], "SLACK_ALERT_CHANNEL is required: playbook 'orphan'"),
        ]
        for (extra, line) in cases {
            let configuration = try configuration(extra)
            await #expect {
                _ = try await buildApplication(configuration: configuration, logger: logger)
            } throws: { error in
                guard let startup = error as? StartupError else { return false }
                return startup.lines.count == 1 && startup.lines[0].hasPrefix(line)
            }
        }
    }
}
