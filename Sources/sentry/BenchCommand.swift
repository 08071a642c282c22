import ArgumentParser
import Foundation
import SentryCore
import SentryEngine
import SentryStore

/// `sentry bench store`: the click's transaction through the real engine and store, with no HTTP, so the
/// benchmark can tell the cost of HTTP and decoding from the cost of storage (bench/run.sh prints it beside
/// the HTTP click row and a raw SQLite loop).
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measurements for bench/run.sh.", shouldDisplay: false,
        subcommands: [Store.self, Socket.self, Stats.self, Clicks.self, Scale.self, Encode.self])

    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Acknowledge N alerts through the engine on a fresh SQLite file; prints transactions/s.")
        @Option(help: "How many clicks (one alert each)") var clicks: Int = 20_000
        @Option(help: "Concurrent clickers") var concurrency: Int = 1
        @Option(help: "SQLite file to create (must not exist); a temporary one by default") var path: String?

        func validate() throws {
            guard clicks > 0, concurrency > 0, concurrency <= clicks else {
                throw ValidationError("--clicks and --concurrency must be positive, concurrency ≤ clicks")
            }
        }

        func run() async throws {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let file = path ?? folder.appendingPathComponent("bench.db").path
            guard !FileManager.default.fileExists(atPath: file) else { throw ValidationError("\(file) exists; give a new path") }
            let engine = AlertEngine(store: try SQLiteAlertStore(path: file))
            let playbook = Playbook(
                id: "bench", title: "Bench", detection: "bench.click", severity: .medium, groupingWindow: 3_600, ackTimeout: 900, escalation: nil,
                actions: [])
            let start = Date(timeIntervalSince1970: 1_790_000_000)
            for n in 0..<clicks {
                let detection = Detection(
                    id: "d\(n)", detection: "bench.click", severity: nil, title: nil, summary: nil,
                    subject: Subject(ip: "10.\(n >> 16 & 255).\(n >> 8 & 255).\(n & 255)"),
                    evidence: nil, occurredAt: nil)
                _ = try await engine.ingest(detection, playbook: playbook, channel: "C0BENCH", newAlertID: "A\(n)", now: start)
            }
            let clock = ContinuousClock()
            let began = clock.now
            let perWorker = clicks / concurrency
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<concurrency {
                    let first = worker * perWorker
                    let last = worker == concurrency - 1 ? clicks : first + perWorker
                    group.addTask {
                        for n in first..<last {
                            let click = Click(action: .ack, userID: "U0BENCH", mayAct: true, responseURL: nil)
                            let transition = try await engine.apply(.clicked(click), to: "A\(n)", now: start.addingTimeInterval(1))
                            guard transition.outcome == .applied else { throw ValidationError("click on A\(n): \(transition.outcome)") }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = (clock.now - began).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            print(String(format: "store clicks: %d in %.3f s = %.0f/s (concurrency %d)", clicks, seconds, Double(clicks) / seconds, concurrency))
        }
    }
}
