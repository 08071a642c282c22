import ArgumentParser
import Foundation
import SentryCore
import SentryEngine
import SentryStore

extension Bench {
    /// `sentry bench clicks`: the `ack` click's transaction through the engine and the SQLite store, with no HTTP, on
    /// the same alert again and again as bench/run.sh's wrk run does, so the click row can show what HTTP and decoding
    /// add to the storage. One click at a time on one task, or `--concurrency` tasks at once (as wrk's connections are),
    /// whose transactions the store commits together up to `--commit-batch` at a time.
    struct Clicks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time N ack clicks on one alert through the engine and a fresh SQLite file (no HTTP); median of the rounds.")
        @Option(help: "Clicks per round") var clicks: Int = 20_000
        @Option(help: "Rounds, each on a fresh file (the median is printed)") var rounds: Int = 5
        @Option(help: "Tasks clicking at once") var concurrency: Int = 1
        @Option(help: "The most transactions one COMMIT carries (1: each commits alone)") var commitBatch: Int = CommitQueue.defaultLimit

        func validate() throws {
            guard clicks > 0, rounds > 0, concurrency > 0, commitBatch > 0 else {
                throw ValidationError("--clicks, --rounds, --concurrency and --commit-batch must be positive")
            }
        }

        func run() async throws {
            var rates: [Double] = []
            var p50s: [Double] = []
            var p99s: [Double] = []
            for _ in 0..<rounds {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-bench-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: folder) }
                let engine = AlertEngine(store: try SQLiteAlertStore(path: folder.appendingPathComponent("clicks.db").path, commitBatch: commitBatch))
                let (rate, latencies) = try await round(engine)
                rates.append(rate)
                p50s.append(Stats.percentile(latencies, 50))
                p99s.append(Stats.percentile(latencies, 99))
            }
            print(
                String(
                    format: "clicks: %d per round, %d at once, commits of up to %d; median of %d: %.0f clicks/s, p50 %.1f us, p99 %.1f us",
                    clicks, concurrency, commitBatch, rounds,
                    Stats.median(rates), Stats.median(p50s) * 1e6, Stats.median(p99s) * 1e6))
        }

        /// One alert, then `clicks` acks on it; the rate and each click's time, sorted.
        func round(_ engine: AlertEngine) async throws -> (Double, [Double]) {
            try await Self.acks(engine, alertID: "A-CLICKS", clicks: clicks, concurrency: concurrency)
        }

        static let playbook = Playbook(
            id: "bench", title: "bench", detection: "bench.clicks", severity: .medium, groupingWindow: 3_600, ackTimeout: nil,
            escalation: nil, actions: [])

        /// A new alert `alertID`, then `clicks` acks on it, `concurrency` at a time.
        static func acks(_ engine: AlertEngine, alertID: String, clicks: Int, concurrency: Int) async throws -> (Double, [Double]) {
            let detection = Detection(
                id: "d-\(alertID)", detection: playbook.detection, severity: nil, title: "bench", summary: nil,
                subject: Subject(ip: "203.0.113.7"), evidence: nil, occurredAt: Date())
            _ = try await engine.ingest(detection, playbook: playbook, channel: "C0BENCH", newAlertID: alertID, now: Date())
            // After the first, each ack is "nothing to do" with an ephemeral answer queued: what the repeated wrk click costs.
            let click = Click(action: .ack, userID: "U0BENCH", mayAct: true, responseURL: "http://127.0.0.1:9/response/bench")
            return try await timed(clicks, concurrency: concurrency) { _ in _ = try await engine.apply(.clicked(click), to: alertID, now: Date()) }
        }

        /// Runs `step(0..<count)`, `concurrency` tasks at once; the rate and each step's time in seconds, sorted.
        static func timed(_ count: Int, concurrency: Int, _ step: @escaping @Sendable (Int) async throws -> Void) async throws -> (Double, [Double]) {
            let clock = ContinuousClock()
            let began = clock.now
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for task in 0..<concurrency {
                    group.addTask {
                        var times: [Double] = []
                        times.reserveCapacity(count / concurrency + 1)
                        for n in stride(from: task, to: count, by: concurrency) {
                            let start = clock.now
                            try await step(n)
                            times.append(Stats.seconds(clock.now - start))
                        }
                        return times
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            return (Double(count) / Stats.seconds(clock.now - began), latencies.sorted())
        }
    }
}
