import ArgumentParser
import Foundation
import SentryCore
import SentryEngine
import SentryStore

extension Bench {
    /// `sentry bench clicks`: the `ack` click's transaction through the engine and the SQLite store, with no HTTP, on
    /// the same alert again and again as bench/run.sh's wrk run does, so the click row can show what HTTP and decoding
    /// add to the storage. One click at a time, on one task.
    struct Clicks: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time N ack clicks on one alert through the engine and a fresh SQLite file (no HTTP); median of the rounds.")
        @Option(help: "Clicks per round") var clicks: Int = 20_000
        @Option(help: "Rounds, each on a fresh file (the median is printed)") var rounds: Int = 5

        func validate() throws {
            guard clicks > 0, rounds > 0 else { throw ValidationError("--clicks and --rounds must be positive") }
        }

        func run() async throws {
            var rates: [Double] = []
            var p50s: [Double] = []
            var p99s: [Double] = []
            for _ in 0..<rounds {
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-bench-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(at: folder) }
                let engine = AlertEngine(store: try SQLiteAlertStore(path: folder.appendingPathComponent("clicks.db").path))
                let (rate, latencies) = try await round(engine)
                rates.append(rate)
                p50s.append(latencies[latencies.count / 2])
                p99s.append(latencies[min(latencies.count - 1, latencies.count * 99 / 100)])
            }
            print(
                String(
                    format: "clicks: %d per round; median of %d: %.0f clicks/s, p50 %.1f us, p99 %.1f us", clicks, rounds,
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
            var latencies: [Double] = []
            latencies.reserveCapacity(clicks)
            let began = clock.now
            for _ in 0..<clicks {
                let start = clock.now
                _ = try await engine.apply(.clicked(click), to: "A-CLICKS", now: Date())
                latencies.append(Stats.seconds(clock.now - start))
            }
            let elapsed = Stats.seconds(clock.now - began)
            return (Double(clicks) / elapsed, latencies.sorted())
        }
    }
}
