import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

extension ServeProcesses {
    /// SIGTERM on a real `sentry serve`: stop accepting, finish what is in flight, exit within the bound, lose nothing.
    @Suite(.serialized) struct ServerShutdownTests {
        let crash = ServerCrashTests()

        func webhookPost(id: String, port: Int) -> (head: [UInt8], body: [UInt8]) {
            let body = Array(ServerHarness.detection(id: id, ip: "198.51.100.9").encoded().utf8)
            let head =
                "POST /hooks/detections HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Type: application/json\r\n"
                + "Authorization: Bearer \(ServerHarness.webhookToken)\r\nContent-Length: \(body.count)\r\n\r\n"
            return (Array(head.utf8), body)
        }

        func detection(_ client: LoopbackClient, id: String) async throws -> String? {
            try await client.detection(ServerHarness.detection(id: id), token: ServerHarness.webhookToken).json?["alert_id"]?.stringValue
        }

        @Test func sigtermFinishesTheRunningEffectAndTheHalfSentRequestThenExits() async throws {
            let world = try await ServeHarness.start("stop")
            defer { world.removeFiles() }
            let (simulator, slackApp, database, port, client) = (world.simulator, world.slackApp, world.database, world.port, world.client)
            // Slack takes 3 s to answer the alert's post: the effect is running when the signal comes.
            simulator.inject([.stall(seconds: 3)], for: "chat.postMessage")
            let process = try crash.startServe(
                port: port, database: database, slackURL: "http://127.0.0.1:\(slackApp.port)", extra: ["SENTRY_SHUTDOWN_TIMEOUT": "20"])
            #expect(await crash.waitForReady(client))
            let first = try #require(try await detection(client, id: "stop-1"))
            #expect(await simulator.waitUntil { $0.topLevelMessages().count == 1 })

            // A second detection is half-sent when SIGTERM arrives.
            let connection = try #require(RawConnection(port: port))
            let (head, body) = webhookPost(id: "stop-2", port: port)
            connection.write(head + body.prefix(10))
            // Time for the server to read the head, so the request counts as in flight.
            try await Task.sleep(for: .milliseconds(500))
            let signalled = ContinuousClock.now
            kill(process.processIdentifier, SIGTERM)
            // No new connections while it drains.
            #expect(await eventually(timeout: .seconds(2)) { RawConnection(port: port) == nil })
            #expect(process.isRunning, "still draining: the half-sent request and the running effect")
            connection.write(Array(body.dropFirst(10)))
            let answer = await connection.answer()
            #expect(answer.hasPrefix("HTTP/1.1 202"), "the half-sent request was answered: \(answer.prefix(80))")
            await ServeProcesses.exit(process)
            let took = ContinuousClock.now - signalled
            #expect(process.terminationReason == .exit && process.terminationStatus == 0)
            print("SIGTERM → exit with a 3 s Slack call running: \(took)")
            #expect(took < .seconds(10), "stopped in \(took)")

            let store = try SQLiteAlertStore(path: database)
            // The running effect finished and was recorded: the alert knows its message.
            #expect(try await store.alert(id: first)?.message != nil)
            #expect(try await store.outbox(alertID: first).first { $0.effect == .postAlert }?.state == "done")
            // The request answered during shutdown was stored (and its alert posted or left in the outbox).
            let alerts = try await store.alerts(statuses: [.open], limit: 10)
            #expect(alerts.count == 2)
            await slackApp.stop()
        }

        @Test func aClientThatNeverFinishesItsRequestDoesNotHoldTheShutdown() async throws {
            let world = try await ServeHarness.start("stop-c")
            defer { world.removeFiles() }
            let (slackApp, database, port, client) = (world.slackApp, world.database, world.port, world.client)
            let process = try crash.startServe(
                port: port, database: database, slackURL: "http://127.0.0.1:\(slackApp.port)", extra: ["SENTRY_SHUTDOWN_TIMEOUT": "2"])
            defer { if process.isRunning { process.terminate() } }
            #expect(await crash.waitForReady(client))
            let connection = try #require(RawConnection(port: port))
            let (head, body) = webhookPost(id: "stuck-1", port: port)
            connection.write(head + body.prefix(5))
            try await Task.sleep(for: .milliseconds(500))
            let signalled = ContinuousClock.now
            kill(process.processIdentifier, SIGTERM)
            await ServeProcesses.exit(process, within: .seconds(30))
            let took = ContinuousClock.now - signalled
            print("SIGTERM → exit with a request that never completes and SENTRY_SHUTDOWN_TIMEOUT=2: \(took)")
            #expect(!process.isRunning)
            #expect(took >= .seconds(2) && took < .seconds(10), "stopped in \(took)")
            #expect(process.terminationReason == .exit && process.terminationStatus == 0)
            await slackApp.stop()
        }

        @Test func sigtermIsBoundedWhenSlackHangsAndTheEffectStaysPending() async throws {
            let world = try await ServeHarness.start("stop-b")
            defer { world.removeFiles() }
            let (simulator, slackApp, database, port, client) = (world.simulator, world.slackApp, world.database, world.port, world.client)
            let slackURL = "http://127.0.0.1:\(slackApp.port)"
            simulator.inject([.stall(seconds: 60)], for: "chat.postMessage")
            let process = try crash.startServe(port: port, database: database, slackURL: slackURL, extra: ["SENTRY_SHUTDOWN_TIMEOUT": "2"])
            #expect(await crash.waitForReady(client))
            let alertID = try #require(try await detection(client, id: "hang-1"))
            #expect(await simulator.waitUntil { $0.topLevelMessages().count == 1 })
            let signalled = ContinuousClock.now
            kill(process.processIdentifier, SIGTERM)
            await ServeProcesses.exit(process)
            let took = ContinuousClock.now - signalled
            print("SIGTERM → exit with Slack hanging and SENTRY_SHUTDOWN_TIMEOUT=2: \(took)")
            // The 2 s allowance, then cancellation: far sooner than Slack's 60 s.
            #expect(took >= .seconds(2) && took < .seconds(10), "stopped in \(took)")
            #expect(process.terminationReason == .exit && process.terminationStatus == 0)

            let store = try SQLiteAlertStore(path: database)
            let post = try #require(try await store.outbox(alertID: alertID).first { $0.effect == .postAlert })
            #expect(post.state == "pending", "left in the outbox, not lost or failed")

            // The next start finds the message Slack did receive instead of posting it twice.
            let again = try crash.startServe(port: port, database: database, slackURL: slackURL)
            defer {
                again.terminate()
                again.waitUntilExit()
            }
            #expect(await crash.waitForReady(client))
            #expect(await eventually { try await store.alert(id: alertID)?.message != nil })
            #expect(simulator.topLevelMessages().count == 1)
            await slackApp.stop()
        }
    }
}
