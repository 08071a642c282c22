import ArgumentParser
import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTesting

extension Bench {
    /// `sentry bench socket`: `/sentry help` as Socket Mode envelopes over one loopback socket, then the same
    /// command over signed HTTP, each through a real `SentryApplication` (issue 15, point 7).
    struct Socket: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "/sentry help over one Socket Mode socket, then over HTTP; prints rate and p50/p99.")
        @Option(help: "Commands per transport") var commands: Int = 5_000
        @Option(help: "Commands in flight at once") var window: Int = 16

        static let secret = "bench-signing-secret-not-real"

        func validate() throws {
            guard commands > 0, window > 0, window <= commands else {
                throw ValidationError("--commands and --window must be positive, window ≤ commands")
            }
        }

        func run() async throws {
            let slack = SlackSimulator(token: "xoxb-bench-not-real")
            let slackApp = try await RunningApplication.start { slack.application(onRunning: $0) }
            let sockets = SocketModeSimulator()
            let socketApp = try await RunningApplication.start { sockets.application(onRunning: $0) }
            slack.attach(socketMode: sockets)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let transport = CurlTransport()
            defer { transport.shutdown() }
            let base = [
                "SLACK_SIGNING_SECRET": Self.secret, "SLACK_BOT_TOKEN": slack.token, "SLACK_ALERT_CHANNEL": "C0BENCH",
                "SLACK_API_URL": "http://127.0.0.1:\(slackApp.port)/api", "SENTRY_HTTP_HOST": "127.0.0.1", "SENTRY_HTTP_PORT": "0",
            ]
            let playbooks = [Playbook(id: "bench", title: "Bench", detection: "bench.help", severity: .low)]
            func start(_ extra: [String: String], _ name: String) async throws -> RunningApplication {
                let configuration = try ServerConfiguration.load(environment: base.merging(extra) { $1 }).get()
                let sentry = try await SentryApplication(
                    configuration: configuration, playbooks: playbooks, store: try SQLiteAlertStore(path: folder.appendingPathComponent(name).path),
                    transport: transport, logger: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }),
                    options: .init(detections: false))
                return try await RunningApplication.start { sentry.application(onRunning: $0) }
            }
            let overSocket = try await start(["SLACK_APP_TOKEN": sockets.appToken, "SLACK_SOCKET_CONNECTIONS": "1"], "socket.db")
            guard await sockets.waitUntil(timeout: .seconds(10), { $0.openConnections.count == 1 }) else {
                throw ValidationError("no Socket Mode hello")
            }
            let fields = LoopbackClient.commandFields("help", user: "U0BENCH")
            let payload = JSONValue.object(Dictionary(uniqueKeysWithValues: fields.map { ($0.0, JSONValue.string($0.1)) }))
            let clock = ContinuousClock()
            var began = clock.now
            var sent = 0
            // At most `window` in flight: each send waits for the ack that makes room (no polling, which would take
            // a core from the loop being measured).
            while sent < commands {
                if sent >= window { await sockets.waitForAcks(sent - window + 1) }
                try await sockets.send("slash_commands", payload: payload, acceptsResponsePayload: true, envelopeID: "bench-\(sent)")
                sent += 1
            }
            await sockets.waitForAcks(commands)
            // Every ack must carry the help text, as the HTTP body does: a bare ack would be a cheaper, wrong answer.
            let answered = sockets.acks.filter { $0.payload?["text"]?.stringValue?.contains("/sentry") == true }.count
            guard answered == commands else { throw ValidationError("\(commands - answered) acks without the help text") }
            report("socket", elapsed: clock.now - began, latencies: sockets.acks.map(\.latency))
            await overSocket.stop()

            let overHTTP = try await start([:], "http.db")
            let client = LoopbackClient(baseURL: "http://127.0.0.1:\(overHTTP.port)", transport: transport, slackSecret: Self.secret)
            let latencies = Locked<[Duration]>([])
            began = clock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<window {
                    let count = commands / window + (worker < commands % window ? 1 : 0)
                    group.addTask {
                        for _ in 0..<count {
                            let sentAt = clock.now
                            let answer = try await client.command("help", user: "U0BENCH")
                            guard answer.status == 200 else { throw ValidationError("HTTP \(answer.status)") }
                            latencies.withLock { $0.append(clock.now - sentAt) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            report("http", elapsed: clock.now - began, latencies: latencies.current)
            await overHTTP.stop()
            await socketApp.stop()
            await slackApp.stop()
        }

        func report(_ name: String, elapsed: Duration, latencies: [Duration]) {
            let sorted = latencies.map(\.inSeconds).sorted()
            let p = { (q: Double) in sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] * 1_000 }
            print(
                String(
                    format: "%@ help: %d in %.3f s = %.0f/s, latency p50 %.2f ms p99 %.2f ms (window %d)", name, sorted.count, elapsed.inSeconds,
                    Double(sorted.count) / elapsed.inSeconds, p(0.5), p(0.99), window))
        }
    }
}
