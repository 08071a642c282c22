import Foundation
import SentryCore
import SentryServer
import SentryTesting
import Testing

extension ServeProcesses {
    /// Socket Mode in a real `sentry serve` (issue 15, point 6): SIGKILL mid-burst, then Slack's redelivery.
    @Suite struct SocketModeCrashTests {
        @Test func envelopesNotAckedBeforeAKillAreRedeliveredAndHandledOnce() async throws {
            let h = try await ServeHarness.start("socket-crash")
            let sockets = SocketModeSimulator()
            let socketApp = try await RunningApplication.start { sockets.application(onRunning: $0) }
            h.simulator.attach(socketMode: sockets)
            let crash = ServerCrashTests()
            let slackURL = "http://127.0.0.1:\(h.slackApp.port)"
            let extra = ["SLACK_APP_TOKEN": sockets.appToken, "SLACK_SOCKET_CONNECTIONS": "1"]
            var process = try crash.startServe(port: h.port, database: h.database, slackURL: slackURL, extra: extra)
            #expect(await sockets.waitUntil(timeout: .seconds(30)) { $0.openConnections.count == 1 })
            // Sent as fast as the socket takes them, then the process dies with acks still owed.
            for index in 0..<150 {
                try await sockets.send(
                    "events_api", payload: SocketModeHarness.appMention(eventID: "EvKill\(index)", channel: "C0KILL\(index)"),
                    acceptsResponsePayload: false, retryAttempt: 0,
                    envelopeID: "kill-\(index)")
            }
            kill(process.processIdentifier, SIGKILL)
            await ServeProcesses.exit(process)
            #expect(await sockets.waitUntil { $0.openConnections.isEmpty })
            let owed = sockets.unacked
            // The handler writes to the store before each ack, so most of the burst is still owed (about 145 here).
            #expect(!owed.isEmpty)
            process = try crash.startServe(port: h.port, database: h.database, slackURL: slackURL, extra: extra)
            #expect(await sockets.waitUntil(timeout: .seconds(30)) { $0.openConnections.count == 1 })
            // What Slack does with envelopes it never got an ack for: it sends them again.
            try await sockets.redeliverUnacked()
            #expect(await sockets.waitUntil(timeout: .seconds(30)) { $0.unacked.isEmpty })
            #expect(Set(sockets.acks.map(\.envelopeID)) == Set((0..<150).map { "kill-\($0)" }))
            #expect(owed.allSatisfy { id in sockets.acks.contains { $0.envelopeID == id } })
            // Every mention answered once, in its own channel (Slack's pace is per channel): none missing, none twice.
            #expect(await h.simulator.waitUntil(timeout: .seconds(60)) { $0.topLevelMessages().count >= 150 })
            try await Task.sleep(for: .seconds(1))
            let posted = h.simulator.topLevelMessages().map(\.channel)
            #expect(posted.count == 150)
            #expect(Set(posted) == Set((0..<150).map { "C0KILL\($0)" }))
            process.terminate()
            await ServeProcesses.exit(process)
            await socketApp.stop()
            await h.slackApp.stop()
            h.removeFiles()
        }
    }
}
