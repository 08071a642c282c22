import ArgumentParser
import Foundation
import SentryCore
import SentryEngine
import SentryStore

extension Bench {
    /// `sentry bench stats`: `/sentry stats 30d` over a store of N alerts spread over 30 days, every one of them in
    /// range (the worst case), so bench/run.sh can show that a large store answers well under Slack's 3 s.
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seed N alerts over 30 days through the engine in a fresh SQLite file; time /sentry stats 30d over them.")
        @Option(help: "How many alerts") var alerts: Int = 100_000
        @Option(help: "How many times to read and count (the median is printed)") var rounds: Int = 5
        @Option(help: "SQLite file to create (must not exist); a temporary one by default") var path: String?

        func validate() throws {
            guard alerts > 0, rounds > 0 else { throw ValidationError("--alerts and --rounds must be positive") }
        }

        func run() async throws {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let file = path ?? folder.appendingPathComponent("stats.db").path
            guard !FileManager.default.fileExists(atPath: file) else { throw ValidationError("\(file) exists; give a new path") }
            let engine = AlertEngine(store: try SQLiteAlertStore(path: file))
            let end = Date(timeIntervalSince1970: 1_796_029_200)
            let seeding = ContinuousClock().now
            try await seed(engine, end: end)
            let seeded = Self.seconds(ContinuousClock().now - seeding)

            var reads: [Double] = []
            var renders: [Double] = []
            var total = 0
            for _ in 0..<rounds {
                let clock = ContinuousClock()
                let began = clock.now
                let stats = try await engine.stats(days: 30, now: end)
                let read = clock.now
                let message = StatsMessage.render(stats, title: "Sentry — last 30 days")
                guard BlockKitCheck.messageProblem(text: message.text, blocks: message.blocks) == nil else {
                    throw ValidationError("the stats message breaks a Slack limit")
                }
                reads.append(Self.seconds(read - began))
                renders.append(Self.seconds(clock.now - read))
                total = stats.total
            }
            guard total == alerts else { throw ValidationError("counted \(total) alerts of \(alerts)") }
            let totals = zip(reads, renders).map { $0 + $1 }
            print(
                String(
                    format: "stats 30d: %d alerts (seeded in %.1f s); median of %d: %.3f s (read and counted %.3f s, rendered %.3f s), max %.3f s",
                    alerts, seeded, rounds, Self.median(totals), Self.median(reads), Self.median(renders), totals.max() ?? 0))
        }

        /// One detection each, 30 days spread evenly; three in four acknowledged, half resolved, one in ten dismissed,
        /// over four playbooks and 5,000 subjects (a subject comes back only after its grouping window).
        func seed(_ engine: AlertEngine, end: Date) async throws {
            let books = ["failed-logins", "mass-download", "new-admin", "uplink-failover"].map { id in
                Playbook(
                    id: id, title: id, detection: "bench.\(id)", severity: .medium, groupingWindow: 3_600, ackTimeout: nil, escalation: nil,
                    actions: [])
            }
            let span = 30 * 86_400.0 - 60
            for n in 0..<alerts {
                let created = end.addingTimeInterval(-span * Double(alerts - n) / Double(alerts))
                let book = books[n % books.count]
                let subject = n % 2 == 0 ? Subject(slackUserID: "U\(100_000 + n % 5_000)") : Subject(ip: "10.0.\(n % 5_000 / 256).\(n % 256)")
                let detection = Detection(
                    id: "d\(n)", detection: book.detection, severity: nil, title: nil, summary: nil, subject: subject, evidence: nil,
                    occurredAt: created)
                _ = try await engine.ingest(detection, playbook: book, channel: "C0BENCH", newAlertID: "A-\(n)", now: created)
                let action: [(AlertAction, TimeInterval)] =
                    switch n % 10 {
                    case 0: [(.dismiss, 300)]
                    case 1, 2, 3, 4: [(.ack, Double(n % 7 * 60 + 30)), (.resolve, Double(n % 11 * 600 + 900))]
                    case 5, 6: [(.ack, Double(n % 13 * 120 + 45))]
                    default: []
                    }
                for (kind, after) in action {
                    let click = Click(action: kind, userID: "U0BENCH", mayAct: true, responseURL: nil)
                    let transition = try await engine.apply(.clicked(click), to: "A-\(n)", now: created.addingTimeInterval(after))
                    guard transition.outcome == .applied else { throw ValidationError("\(kind) on A-\(n): \(transition.outcome)") }
                }
            }
        }

        static func seconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }

        /// The `percent`th percentile of values already sorted; 0 for none.
        static func percentile(_ sorted: [Double], _ percent: Int) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * percent / 100)]
        }

        static func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        }
    }
}
