import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// Suites that start real `sentry serve` processes run one at a time: on a 2-core machine several at once
/// starve each other's timing.
@Suite(.serialized) enum ServeProcesses {
    /// Waits for a process to end without holding a thread of the shared pool (an in-process simulator the
    /// server is waiting on needs one to answer).
    static func exit(_ process: Process, within limit: Duration = .seconds(60)) async {
        let deadline = ContinuousClock.now + limit
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
    }
}

extension ServeProcesses {
    /// A Slack simulator, a database path and a free port for one `sentry serve` under test.
    struct ServeHarness {
        let simulator: SlackSimulator
        let slackApp: RunningApplication
        let transport: CurlTransport
        let database: String
        let port: Int
        let client: LoopbackClient

        static func start(_ name: String) async throws -> ServeHarness {
            let simulator = SlackSimulator(token: ServerHarness.botToken)
            let slackApp = try await RunningApplication.start { simulator.application(onRunning: $0) }
            let transport = CurlTransport()
            let port = try freePort()
            return ServeHarness(
                simulator: simulator, slackApp: slackApp, transport: transport,
                database: FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).db").path,
                port: port,
                client: LoopbackClient(baseURL: "http://127.0.0.1:\(port)", transport: transport, slackSecret: ServerHarness.signingSecret))
        }

        /// Removes the database and its WAL files and stops the client's transport.
        func removeFiles() {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
            transport.shutdown()
        }
    }

    /// Kills a real `sentry serve` process (SIGKILL, no clean-up) mid-flight and starts it again.
    @Suite struct ServerCrashTests {
        /// `log`: a file that keeps the process's log (at info), for a test that prints it when it fails.
        func startServe(port: Int, database: String, slackURL: String, extra: [String: String] = [:], log: String? = nil) throws -> Process {
            let binary = try #require(ServerBinaryTests.binary, "build the sentry product first")
            let process = Process()
            process.executableURL = binary
            process.arguments = ["serve"]
            process.currentDirectoryURL = ServerBinaryTests.root
            process.environment = [
                "SLACK_SIGNING_SECRET": ServerHarness.signingSecret, "SLACK_BOT_TOKEN": ServerHarness.botToken,
                "SLACK_ALERT_CHANNEL": ServerHarness.channel, "SENTRY_WEBHOOK_TOKEN": ServerHarness.webhookToken,
                "SLACK_API_URL": slackURL + "/api", "SENTRY_HTTP_HOST": "127.0.0.1", "SENTRY_HTTP_PORT": String(port),
                "SENTRY_DATABASE_URL": "sqlite:" + database, "SENTRY_LOG_LEVEL": "error",
            ].merging(extra) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            if let log, FileManager.default.createFile(atPath: log, contents: nil) {
                process.environment?["SENTRY_LOG_LEVEL"] = "info"
                process.standardError = FileHandle(forWritingAtPath: log)
            }
            try process.run()
            return process
        }

        func waitForReady(_ client: LoopbackClient) async -> Bool {
            for _ in 0..<200 {
                if let answer = try? await client.send("GET", "/readyz"), answer.status == 200 { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return false
        }

        @Test func killedWhileSlackHoldsThePostAnswerThenRestartedPostsOnce() async throws {
            let world = try await ServeHarness.start("crash")
            defer { world.removeFiles() }
            let (simulator, slackApp, database, port, client) = (world.simulator, world.slackApp, world.database, world.port, world.client)
            let slackURL = "http://127.0.0.1:\(slackApp.port)"

            // Slack receives the post, then the process dies before the answer comes back.
            simulator.inject([.stall(seconds: 30)], for: "chat.postMessage")
            let first = try startServe(port: port, database: database, slackURL: slackURL)
            #expect(await waitForReady(client))
            let answer = try await client.detection(ServerHarness.detection(id: "crash-1"), token: ServerHarness.webhookToken)
            #expect(answer.status == 202)
            #expect(await simulator.waitUntil { $0.topLevelMessages().count == 1 })
            kill(first.processIdentifier, SIGKILL)
            await ServeProcesses.exit(first)

            // The next life finds the message by its metadata instead of posting again, then carries on.
            let second = try startServe(port: port, database: database, slackURL: slackURL)
            defer {
                second.terminate()
                second.waitUntilExit()
            }
            #expect(await waitForReady(client))
            #expect(await simulator.waitUntil { $0.requests.contains { $0.method == "conversations.history" } })
            let alertID = try #require(answer.json?["alert_id"]?.stringValue)
            let ts = try #require(simulator.topLevelMessages().first?.ts)
            let click = try await client.click(
                "ack", value: alertID, user: "U0ANYONE", responseURL: "\(slackURL)/response/x", channel: ServerHarness.channel, messageTS: ts)
            #expect(click.status == 200)
            #expect(await simulator.waitUntil { $0.replies(to: ts).count == 1 })
            #expect(simulator.topLevelMessages().count == 1)
            #expect(simulator.requests.filter { $0.method == "chat.postMessage" && $0.body?["thread_ts"] == nil }.count == 1)
            // SIGTERM stops it gracefully.
            second.terminate()
            await ServeProcesses.exit(second)
            #expect(second.terminationReason == .exit)
            await slackApp.stop()
        }

        @Test func containmentExecutesAndRollsBackOnceAcrossKills() async throws {
            let world = try await ServeHarness.start("crash-c")
            defer { world.removeFiles() }
            let (slack, slackApp, database, port, client) = (world.simulator, world.slackApp, world.database, world.port, world.client)
            let meraki = MerakiSimulator(apiKey: ServerHarness.merakiKey)
            let merakiApp = try await RunningApplication.start { meraki.application(onRunning: $0) }
            let slackURL = "http://127.0.0.1:\(slackApp.port)"
            let extra = [
                "SLACK_RESPONDERS": "\(ServerHarness.alice),\(ServerHarness.bob)", "MERAKI_API_KEY": ServerHarness.merakiKey,
                "MERAKI_ORG_ID": meraki.organizationID,
                "MERAKI_API_URL": "http://127.0.0.1:\(merakiApp.port)/api/v1",
            ]
            let rulesPath = "/networks/\(MerakiSimulator.mainOffice)/appliance/firewall/l3FirewallRules"
            func marked(_ network: String, _ id: String) -> Int {
                meraki.l3Rules(networkID: network).filter { $0["comment"]?.stringValue?.contains("sentry:\(id)") == true }.count
            }

            var process = try startServe(port: port, database: database, slackURL: slackURL, extra: extra)
            #expect(await waitForReady(client))
            let requested = try await client.command("block-ip 198.51.100.23 1h", user: ServerHarness.alice, responseURL: "\(slackURL)/response/c")
            let text = try #require(requested.json?["text"]?.stringValue)
            let id = try #require(text.split(separator: "`").first { $0.hasPrefix("C-") }.map(String.init))

            // Execution: killed while Meraki holds the answer to the first rule write.
            meraki.inject([.stall(seconds: 30)], for: rulesPath, method: "PUT")
            _ = try await client.click("approve", value: id, user: ServerHarness.bob, responseURL: "\(slackURL)/response/c")
            #expect(await slack.waitUntil { _ in meraki.requests(path: rulesPath, method: "PUT").count == 1 })
            kill(process.processIdentifier, SIGKILL)
            await ServeProcesses.exit(process)
            process = try startServe(port: port, database: database, slackURL: slackURL, extra: extra)
            #expect(await waitForReady(client))
            let store = try SQLiteAlertStore(path: database)
            let alertID = try #require(try await store.alertID(forContainment: id))
            #expect(await eventually { try await store.alert(id: alertID)?.containments.first?.status == .active })
            #expect(marked(MerakiSimulator.mainOffice, id) == 1)
            #expect(marked(MerakiSimulator.branch, id) == 1)

            // Rollback: killed while Meraki holds the answer to the removal.
            meraki.inject([.stall(seconds: 30)], for: rulesPath, method: "PUT")
            _ = try await client.command("unblock-ip 198.51.100.23", user: ServerHarness.bob)
            #expect(await slack.waitUntil { _ in meraki.requests(path: rulesPath, method: "PUT").count == 2 })
            kill(process.processIdentifier, SIGKILL)
            await ServeProcesses.exit(process)
            process = try startServe(port: port, database: database, slackURL: slackURL, extra: extra)
            #expect(await waitForReady(client))
            #expect(await eventually { try await store.alert(id: alertID)?.containments.first?.status == .released })
            #expect(marked(MerakiSimulator.mainOffice, id) == 0)
            #expect(marked(MerakiSimulator.branch, id) == 0)
            #expect(
                meraki.l3Rules(networkID: MerakiSimulator.mainOffice).contains { $0["comment"] == "Allow TCP traffic to subnet with HTTP servers." })
            let audit = try await store.auditEntries(after: 0, limit: 500)
            #expect(audit.filter { $0.action == "containment.executed" }.count == 1)
            #expect(audit.filter { $0.action == "containment.released" }.count == 1)
            #expect(AuditChain.verify(audit) == .intact(entries: audit.count))

            process.terminate()
            await ServeProcesses.exit(process)
            await slackApp.stop()
            await merakiApp.stop()
        }
    }
}
