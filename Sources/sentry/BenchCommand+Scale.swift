import ArgumentParser
import Foundation
import SentryCore
import SentryEngine
import SentryStore

extension Bench {
    /// `sentry bench scale`: the click and the detection through the engine and SQLite (no HTTP), on an empty store and
    /// on one holding a year of history (a million finished alerts, ten million audit entries), rounds alternating,
    /// so bench/run.sh can show that the cost of a request does not grow with the store.
    struct Scale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clicks and detections on an empty SQLite store and on a large one, alternating; medians of the rounds.")
        @Option(help: "Finished alerts in the large store") var alerts: Int = 1_000_000
        @Option(help: "Audit entries in the large store") var audit: Int = 10_000_000
        @Option(help: "Acks per round") var clicks: Int = 10_000
        @Option(help: "Detections per round (distinct ids over the subjects of the history)") var detections: Int = 5_000
        @Option(help: "Rounds on each store") var rounds: Int = 3

        func validate() throws {
            guard alerts > 0, audit >= 0, clicks > 0, detections > 0, rounds > 0 else {
                throw ValidationError("--alerts, --clicks, --detections and --rounds must be positive, --audit not negative")
            }
        }

        /// The subjects the history and the detections share: each detection's grouping reads a key that a
        /// thousand finished alerts carry.
        static let subjects = (0..<1_000).map { Subject(ip: "10.9.\($0 / 256).\($0 % 256)") }
        static let playbook = Clicks.playbook

        func run() async throws {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sentry-bench-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let large = folder.appendingPathComponent("large.db").path
            let clock = ContinuousClock()
            let seeding = clock.now
            try await seed(large)
            let seeded = Stats.seconds(clock.now - seeding)
            let size = (try FileManager.default.attributesOfItem(atPath: large)[.size] as? Int) ?? 0

            var figures: [String: [Double]] = [:]
            for round in 0..<rounds {
                for (name, path) in [("empty", folder.appendingPathComponent("empty-\(round).db").path), ("large", large)] {
                    let engine = AlertEngine(store: try SQLiteAlertStore(path: path))
                    let (clickRate, clickTimes) = try await Clicks.acks(engine, alertID: "A-SCALE-\(round)", clicks: clicks, concurrency: 1)
                    let base = Date()
                    let (ingestRate, ingestTimes) = try await Clicks.timed(detections, concurrency: 1) { n in
                        let detection = Detection(
                            id: "d-scale-\(round)-\(n)", detection: Self.playbook.detection, severity: nil, title: "scale", summary: nil,
                            subject: Self.subjects[n % Self.subjects.count], evidence: nil, occurredAt: base)
                        _ = try await engine.ingest(
                            detection, playbook: Self.playbook, channel: "C0BENCH", newAlertID: "A-SCALE-\(round)-\(n)",
                            now: base.addingTimeInterval(Double(n) / 1_000))
                    }
                    figures["\(name).clicks", default: []].append(clickRate)
                    figures["\(name).clicks.p99", default: []].append(Stats.percentile(clickTimes, 99) * 1e6)
                    figures["\(name).ingest", default: []].append(ingestRate)
                    figures["\(name).ingest.p99", default: []].append(Stats.percentile(ingestTimes, 99) * 1e6)
                }
            }
            let m = { (key: String) in Stats.median(figures[key] ?? []) }
            print(
                String(
                    format:
                        "scale: %d finished alerts, %d audit entries (seeded in %.1f s, %.0f MB); median of %d: empty %.0f clicks/s p99 %.0f us, "
                        + "%.0f detections/s p99 %.0f us; large %.0f clicks/s p99 %.0f us, %.0f detections/s p99 %.0f us",
                    alerts, audit, seeded, Double(size) / 1_048_576, rounds, m("empty.clicks"), m("empty.clicks.p99"), m("empty.ingest"),
                    m("empty.ingest.p99"), m("large.clicks"), m("large.clicks.p99"), m("large.ingest"), m("large.ingest.p99")))
        }

        /// One alert through the engine, resolved, then copied into a year of history over the shared subjects.
        func seed(_ path: String) async throws {
            let store = try SQLiteAlertStore(path: path)
            let engine = AlertEngine(store: store)
            let start = Date().addingTimeInterval(-2 * 86_400)
            let detection = Detection(
                id: "d-template", detection: Self.playbook.detection, severity: nil, title: "scale", summary: nil, subject: Self.subjects[0],
                evidence: nil, occurredAt: start)
            _ = try await engine.ingest(detection, playbook: Self.playbook, channel: "C0BENCH", newAlertID: "A-TEMPLATE", now: start)
            _ = try await engine.apply(
                .clicked(Click(action: .resolve, userID: "U0BENCH", mayAct: true, responseURL: nil)), to: "A-TEMPLATE",
                now: start.addingTimeInterval(600))
            let keys = Self.subjects.map { Alert.groupKey(detection: Self.playbook.detection, subject: $0) }
            try await store.seedHistory(like: "A-TEMPLATE", alerts: alerts, groupKeys: keys, days: 365, auditEntries: audit)
            guard try await store.alert(id: "A-SEED-\(alerts - 1)")?.status == .resolved else {
                throw ValidationError("the seeded history is not readable")
            }
        }
    }
}
