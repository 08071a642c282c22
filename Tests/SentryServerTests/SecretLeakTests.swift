import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

extension ServeProcesses {
    /// Runs a real `sentry serve` at trace level through every flow that touches a credential, then reads every
    /// log line and every byte of the database for the credentials' values.
    @Suite struct SecretLeakTests {
        // Fake, and distinctive enough that any fragment of one is found.
        static let secrets: [String: String] = [
            "SLACK_SIGNING_SECRET": "sigsec-LEAKPROBE-4b1e9d7c",
            "SLACK_BOT_TOKEN": "xoxb-LEAKPROBE-bot-8e2f61a0",
            "SLACK_ADMIN_TOKEN": "xoxp-LEAKPROBE-admin-3c7d95b2",
            "MERAKI_API_KEY": "merakikey-LEAKPROBE-6a0f14e8",
            "SENTRY_WEBHOOK_SECRET": "hooksec-LEAKPROBE-91d3c5f7",
            "SENTRY_WEBHOOK_TOKEN": "hooktok-LEAKPROBE-2f8b7e6d",
        ]

        /// Where a secret's value (or a 10-character piece of it) appears in `text`.
        static func leaks(in text: String, source: String) -> [String] {
            var found: [String] = []
            for (name, value) in secrets {
                let pieces = stride(from: 0, through: value.count - 10, by: 5).map { String(value.dropFirst($0).prefix(10)) }
                if let piece = pieces.first(where: { text.contains($0) }) { found.append("\(name) (\(piece)) in \(source)") }
            }
            return found
        }

        @Test func noCredentialReachesALogLineOrTheDatabase() async throws {
            let slack = SlackSimulator(token: Self.secrets["SLACK_BOT_TOKEN"]!)
            let slackApp = try await RunningApplication.start { slack.application(onRunning: $0) }
            let meraki = MerakiSimulator(apiKey: Self.secrets["MERAKI_API_KEY"]!)
            let merakiApp = try await RunningApplication.start { meraki.application(onRunning: $0) }
            let admin = SlackAdminSimulator(token: Self.secrets["SLACK_ADMIN_TOKEN"]!)
            let adminApp = try await RunningApplication.start { admin.application(onRunning: $0) }
            let audit = AuditLogsSimulator(token: Self.secrets["SLACK_ADMIN_TOKEN"]!)
            let auditApp = try await RunningApplication.start { audit.application(onRunning: $0) }
            let transport = CurlTransport()
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("leak-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            defer {
                try? FileManager.default.removeItem(at: work)
                transport.shutdown()
            }
            let database = work.appendingPathComponent("sentry.db").path
            let logPath = work.appendingPathComponent("sentry.log").path
            FileManager.default.createFile(atPath: logPath, contents: nil)
            let port = try freePort()
            let slackURL = "http://127.0.0.1:\(slackApp.port)"

            let process = Process()
            process.executableURL = try #require(ServerBinaryTests.binary, "build the sentry product first")
            process.arguments = ["serve"]
            process.currentDirectoryURL = ServerBinaryTests.root
            process.environment = Self.secrets.merging([
                "SLACK_ALERT_CHANNEL": ServerHarness.channel, "SLACK_RESPONDERS": "\(ServerHarness.alice),\(ServerHarness.bob)",
                "SLACK_API_URL": slackURL + "/api", "SLACK_SCIM_URL": "http://127.0.0.1:\(adminApp.port)/scim/v2",
                "SLACK_AUDIT_URL": "http://127.0.0.1:\(auditApp.port)/audit/v1", "SENTRY_SLACK_AUDIT_INTERVAL": "5",
                "MERAKI_ORG_ID": meraki.organizationID, "MERAKI_API_URL": "http://127.0.0.1:\(merakiApp.port)/api/v1",
                "SENTRY_MERAKI_INTERVAL": "5", "SENTRY_HTTP_HOST": "127.0.0.1", "SENTRY_HTTP_PORT": String(port),
                "SENTRY_DATABASE_URL": "sqlite:" + database, "SENTRY_LOG_LEVEL": "trace", "SENTRY_LOG_FORMAT": "json",
            ]) { $1 }
            let log = try #require(FileHandle(forWritingAtPath: logPath))
            process.standardOutput = log
            process.standardError = log
            try process.run()
            defer { if process.isRunning { process.terminate() } }

            let client = LoopbackClient(baseURL: "http://127.0.0.1:\(port)", transport: transport, slackSecret: Self.secrets["SLACK_SIGNING_SECRET"]!)
            #expect(await ServerCrashTests().waitForReady(client))

            // Detections: signed with the webhook secret, and with the bearer token; and refused ones.
            let signed = try await client.detection(ServerHarness.detection(id: "leak-1"), secret: Self.secrets["SENTRY_WEBHOOK_SECRET"]!)
            #expect(signed.status == 202)
            let alertID = try #require(signed.json?["alert_id"]?.stringValue)
            let bearer = try await client.detection(
                ServerHarness.detection(id: "leak-2", ip: "198.51.100.77"), token: Self.secrets["SENTRY_WEBHOOK_TOKEN"]!)
            #expect(bearer.status == 202)
            let wrongBearer = try await client.send(
                "POST", "/hooks/detections", body: Array(ServerHarness.detection(id: "leak-3").encoded().utf8),
                headers: [HTTPHeader("Authorization", "Bearer \(Self.secrets["SENTRY_WEBHOOK_TOKEN"]!)x")])
            #expect(wrongBearer.status == 401)
            let forged = LoopbackClient(
                baseURL: "http://127.0.0.1:\(port)", transport: transport, slackSecret: "not-" + Self.secrets["SLACK_SIGNING_SECRET"]!)
            #expect(try await forged.command("help", user: ServerHarness.alice).status == 401)

            // Clicks, a block-ip with approval (Meraki), a block-user with approval (SCIM), the uplinks command.
            #expect(await slack.waitUntil { $0.topLevelMessages().count == 2 })
            let ts = try #require(slack.topLevelMessages().first?.ts)
            #expect(
                try await client.click("ack", value: alertID, user: ServerHarness.alice, responseURL: slackURL + "/response/a", messageTS: ts).status
                    == 200)
            let requested = try await client.command("block-ip 198.51.100.23 1h", user: ServerHarness.alice, responseURL: slackURL + "/response/b")
            let blockID = try #require(requested.json?["text"]?.stringValue?.split(separator: "`").first { $0.hasPrefix("C-") }.map(String.init))
            _ = try await client.click("approve", value: blockID, user: ServerHarness.bob, responseURL: slackURL + "/response/c")
            let user = SlackAdminSimulator.activeUserID
            let download = try await client.detection(
                ["id": "leak-4", "detection": "slack.max_daily_download", "subject": ["slack_user_id": .string(user)]],
                secret: Self.secrets["SENTRY_WEBHOOK_SECRET"]!)
            let downloadAlert = try #require(download.json?["alert_id"]?.stringValue)
            #expect(await slack.waitUntil { $0.topLevelMessages().count == 3 })
            let downloadTS = try #require(slack.topLevelMessages().last?.ts)
            _ = try await client.click(
                "block_user", value: downloadAlert, user: ServerHarness.alice, responseURL: slackURL + "/response/d", messageTS: downloadTS)
            #expect(await slack.waitUntil { $0.views.count == 1 })
            let metadata = try #require(slack.views.last?["private_metadata"]?.stringValue)
            _ = try await client.submitView(
                callbackID: ContainmentModal.callbackID, user: ServerHarness.alice, privateMetadata: metadata,
                values: ServerContainmentFlowTests.ttlValues("1h", "mass download"))
            let store = try SQLiteAlertStore(path: database)
            let userBlock = try #require(try await store.alert(id: downloadAlert)?.containments.first?.id)
            _ = try await client.click("approve", value: userBlock, user: ServerHarness.bob, responseURL: slackURL + "/response/e")
            #expect(await eventually { admin.isActive(user) == false })
            let blockAlert = try #require(try await store.alertID(forContainment: blockID))
            #expect(await eventually { try await store.alert(id: blockAlert)?.containments.first?.status == .active })
            _ = try await client.command("uplinks", user: ServerHarness.alice, responseURL: slackURL + "/response/f")
            // The collectors poll with the admin token and the Meraki key.
            #expect(await eventually { !audit.requests.isEmpty })
            let metrics = try await client.send("GET", "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.text.contains("sentry_upstream_requests_total{"))

            kill(process.processIdentifier, SIGTERM)
            await ServeProcesses.exit(process)
            try log.close()

            let lines = try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
            #expect(lines.count > 50, "trace logging wrote \(lines.count) lines")
            var leaks = Self.leaks(in: metrics.text, source: "/metrics")
            var withRequestAndAlert = 0
            for line in lines {
                leaks += Self.leaks(in: String(line), source: "log: \(line.prefix(160))")
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object != nil, "not a JSON line: \(line.prefix(160))")
                if object?["request.id"] != nil && object?["alert.id"] as? String == alertID { withRequestAndAlert += 1 }
            }
            #expect(withRequestAndAlert >= 1, "request.id and alert.id metadata on the webhook's log line")
            var stored = 0
            for suffix in ["", "-wal"] {
                guard let bytes = FileManager.default.contents(atPath: database + suffix) else { continue }
                let text = String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
                leaks += Self.leaks(in: text, source: "sentry.db\(suffix)")
                if text.contains("198.51.100.23") && text.contains(alertID) { stored += 1 }
            }
            // The scan reads what was stored: the blocked address and the alert id are found in the same bytes.
            #expect(stored >= 1)
            #expect(leaks.isEmpty, "\(leaks.prefix(5))")

            await auditApp.stop()
            await adminApp.stop()
            await merakiApp.stop()
            await slackApp.stop()
        }

        @Test func theScanFindsAPlantedSecret() {
            #expect(!Self.leaks(in: "{\"token\":\"xoxb-LEAKPR…\"}", source: "x").isEmpty)
            #expect(!Self.leaks(in: "Authorization: Bearer hooktok-LEAKPROBE-2f8b7e6d", source: "x").isEmpty)
            #expect(!Self.leaks(in: "key …admin-3c7d95b2", source: "x").isEmpty)
            #expect(Self.leaks(in: "nothing secret here: xoxb-REDACTED", source: "x").isEmpty)
        }
    }
}
