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
                p50s.append(latencies[latencies.count / 2])
                p99s.append(latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
            }
            print(
                String(
                    format: "clicks: %d per round, %d at once, commits of up to %d; median of %d: %.0f clicks/s, p50 %.1f us, p99 %.1f us",
                    clicks, concurrency, commitBatch, rounds,
                    Stats.median(rates), Stats.median(p50s) * 1e6, Stats.median(p99s) * 1e6))
        }

        /// One alert, then `clicks` acks on it; the rate and each click's time, sorted.
        func round(_ engine: AlertEngine) async throws -> (Double, [Double]) {
            let book = Playbook(
                id: "bench", title: "bench", detection: "bench.clicks", severity: .medium, groupingWindow: 3_600, ackTimeout: nil,
                escalation: nil, actions: [])
            let detection = Detection(
                id: "d-clicks", detection: book.detection, severity: nil, title: "bench", summary: nil, subject: Subject(ip: "203.0.113.7"),
                evidence: nil, occurredAt: Date())
            _ = try await engine.ingest(detection, playbook: book, channel: "C0BENCH", newAlertID: "A-CLICKS", now: Date())
            // After the first, each ack is "nothing to do" with an ephemeral answer queued: what the repeated wrk click costs.
            let click = Click(action: .ack, userID: "U0BENCH", mayAct: true, responseURL: "http://127.0.0.1:9/response/bench")
            let clock = ContinuousClock()
            let began = clock.now
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for task in 0..<concurrency {
                    let share = clicks / concurrency + (task < clicks % concurrency ? 1 : 0)
                    group.addTask {
                        var times: [Double] = []
                        times.reserveCapacity(share)
                        for _ in 0..<share {
                            let start = clock.now
                            _ = try await engine.apply(.clicked(click), to: "A-CLICKS", now: Date())
                            times.append(Stats.seconds(clock.now - start))
                        }
                        return times
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let elapsed = Stats.seconds(clock.now - began)
            return (Double(clicks) / elapsed, latencies.sorted())
        }
    }
}
