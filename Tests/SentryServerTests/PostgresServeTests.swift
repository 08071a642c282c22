import Foundation
import SentryCore
import SentryEngine
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryPostgres

extension ServeProcesses {
    /// A real `sentry serve` on PostgreSQL: it migrates an empty database at start, runs its pool in the service
    /// group, keeps what a detection and Slack's answer changed there, and stops cleanly on SIGTERM.
    @Suite(.enabled(if: PostgresTestDatabase.included, "\(PostgresTestDatabase.skipVariable)=1 and no server"))
    struct PostgresServeTests {
        @Test func serveOnPostgresPostsAnAlertAndKeepsItInTheDatabase() async throws {
            let world = try await ServeHarness.start("pg-serve")
            defer { world.removeFiles() }
            let settings = try await PostgresTestDatabase.createDatabase()
            let slackURL = "http://127.0.0.1:\(world.slackApp.port)"
            let crash = ServerCrashTests()
            let process = try crash.startServe(
                port: world.port, database: world.database, slackURL: slackURL, extra: ["SENTRY_DATABASE_URL": settings.redacted])
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            #expect(await crash.waitForReady(world.client))
            #expect(!FileManager.default.fileExists(atPath: world.database))

            let answer = try await world.client.detection(ServerHarness.detection(id: "pg-1"), token: ServerHarness.webhookToken)
            #expect(answer.status == 202)
            let alertID = try #require(answer.json?["alert_id"]?.stringValue)
            #expect(await world.simulator.waitUntil { $0.topLevelMessages().count == 1 })

            // Another process sees it all in PostgreSQL: the alert with its message, the post done, the chain intact.
            let store = try await PostgresAlertStore.open(settings: settings, logger: PostgresTestDatabase.logger)
            var posted = false
            for _ in 0..<100 where !posted {
                posted = try await store.alert(id: alertID)?.message != nil
                if !posted { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(posted)
            #expect(try await store.outbox(alertID: alertID).first { $0.effect == .postAlert }?.state == "done")
            let audit = try await store.auditEntries(after: 0, limit: 100)
            #expect(audit.map(\.action).prefix(2) == ["alert.created", "message.posted"])
            #expect(AuditChain.verify(audit) == .intact(entries: audit.count))

            process.terminate()
            await ServeProcesses.exit(process)
            #expect(process.terminationReason == .exit)
            #expect(process.terminationStatus == 0)
            await world.slackApp.stop()
        }

        @Test func auditVerifyReadsTheChainFromPostgres() async throws {
            let settings = try await PostgresTestDatabase.createDatabase()
            let store = try await PostgresAlertStore.open(settings: settings, logger: PostgresTestDatabase.logger)
            _ = try await AlertEngine(store: store).ingest(
                CoreFixtures.detection(id: "pg-audit"), playbook: CoreFixtures.playbook(), channel: CoreFixtures.channel, newAlertID: "A1",
                now: CoreFixtures.t0)
            let environment = ["SENTRY_DATABASE_URL": settings.redacted]
            let intact = try ServerBinaryTests().run(["audit", "verify"], environment: environment)
            #expect(intact.status == 0)
            #expect(intact.out.contains("audit chain intact: 1 entries"))
            try await store.unsafeExecute("UPDATE audit SET actor = 'U0MALLORY' WHERE seq = 1")
            let changed = try ServerBinaryTests().run(["audit", "verify"], environment: environment)
            #expect(changed.status == 1)
            #expect(changed.out.contains("audit chain broken at entry 1"))
        }
    }
}
