import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

extension ServeProcesses {
    /// Approved-only survives `kill -9` in the middle of its cellular write and of its rollback: each lands once.
    @Suite struct ApprovedOnlyCrashTests {
        static let playbook = """
            id: uplinks
            title: Uplinks
            detection: meraki.public_ip_change
            grouping_window: 30m
            actions:
              approved_only: {approvals: 0, ttl: 12h, auto: true, debounce: 1s, approved: {cidrs: [10.40.0.0/24], groups: ["Business devices"]}}
            """

        static func detection(_ id: String, change: String, interface: String) -> JSONValue {
            [
                "id": .string(id), "detection": "meraki.public_ip_change", "title": "Main Office MX uplink moved",
                "subject": ["meraki_network_id": .string(MerakiSimulator.mainOffice), "meraki_serial": "Q234-ABCD-0001"],
                "evidence": ["change": .string(change), "interface": .string(interface)],
            ]
        }

        @Test func approvedOnlyWritesAndRollsBackOnceAcrossKills() async throws {
            let crash = ServerCrashTests()
            let world = try await ServeHarness.start("crash-lte")
            defer { world.removeFiles() }
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lte-playbooks-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            try Self.playbook.write(to: folder.appendingPathComponent("uplinks.yml"), atomically: true, encoding: .utf8)

            let (slack, slackApp, database, port, client) = (world.simulator, world.slackApp, world.database, world.port, world.client)
            let meraki = MerakiSimulator(apiKey: ServerHarness.merakiKey)
            let merakiApp = try await RunningApplication.start { meraki.application(onRunning: $0) }
            let slackURL = "http://127.0.0.1:\(slackApp.port)"
            let extra = [
                "MERAKI_API_KEY": ServerHarness.merakiKey, "MERAKI_ORG_ID": meraki.organizationID,
                "MERAKI_API_URL": "http://127.0.0.1:\(merakiApp.port)/api/v1", "SENTRY_PLAYBOOKS": folder.path,
            ]
            let path = "/networks/\(MerakiSimulator.mainOffice)/appliance/firewall/cellularFirewallRules"
            func ours() -> Int {
                meraki.cellularRules(networkID: MerakiSimulator.mainOffice).filter { $0["comment"]?.stringValue?.hasPrefix("sentry:") == true }.count
            }
            func admins() -> Bool {
                meraki.cellularRules(networkID: MerakiSimulator.mainOffice).contains {
                    $0["comment"] == "Allow TCP traffic to subnet with HTTP servers."
                }
            }

            // The write: killed while Meraki holds the answer to the cellular PUT (the rules have landed).
            meraki.inject([.stall(seconds: 30)], for: path, method: "PUT")
            var process = try crash.startServe(port: port, database: database, slackURL: slackURL, extra: extra)
            #expect(await crash.waitForReady(client))
            let failover = try await client.detection(
                Self.detection("fo-1", change: "uplink_failover", interface: "cellular"), token: ServerHarness.webhookToken)
            #expect(failover.status == 202)
            #expect(await slack.waitUntil(timeout: .seconds(20)) { _ in meraki.requests(path: path, method: "PUT").count == 1 })
            kill(process.processIdentifier, SIGKILL)
            await ServeProcesses.exit(process)
            process = try crash.startServe(port: port, database: database, slackURL: slackURL, extra: extra)
            #expect(await crash.waitForReady(client))
            let store = try SQLiteAlertStore(path: database)
            let alertID = try #require(failover.json?["alert_id"]?.stringValue)
            #expect(await eventually(timeout: .seconds(20)) { try await store.alert(id: alertID)?.containments.first?.status == .active })
            #expect(ours() == 3)
            #expect(admins())
            #expect(meraki.requests(path: path, method: "PUT").count == 1)

            // The rollback: the primary uplink is back; killed while Meraki holds the answer to the removal.
            meraki.inject([.stall(seconds: 30)], for: path, method: "PUT")
            let recovered = try await client.detection(
                Self.detection("rec-1", change: "uplink_recovered", interface: "wan1"), token: ServerHarness.webhookToken)
            #expect(recovered.status == 202)
            #expect(await slack.waitUntil(timeout: .seconds(20)) { _ in meraki.requests(path: path, method: "PUT").count == 2 })
            kill(process.processIdentifier, SIGKILL)
            await ServeProcesses.exit(process)
            process = try crash.startServe(port: port, database: database, slackURL: slackURL, extra: extra)
            #expect(await crash.waitForReady(client))
            #expect(await eventually(timeout: .seconds(20)) { try await store.alert(id: alertID)?.containments.first?.status == .released })
            #expect(ours() == 0)
            #expect(admins())
            #expect(meraki.requests(path: path, method: "PUT").count == 2)
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
