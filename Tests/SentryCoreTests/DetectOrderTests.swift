import Foundation
import SentryCore
import SentryTestSupport
import Testing

/// Detections over a set of events do not depend on the order the events arrive in.
@Suite struct DetectOrderTests {
    static let day0 = RuleFixtures.day0

    /// Every built-in rule, with thresholds low enough that generated bursts cross them.
    static let playbooks: [Playbook] = [
        RuleFixtures.playbook("slack.failed_logins_by_ip", rule: ["threshold": 8, "window": "10m"], window: 600),
        RuleFixtures.playbook("slack.sensitive_file_downloads", rule: ["threshold": 3, "window": "1h", "name_patterns": ["(?i)payroll"]]),
        RuleFixtures.playbook(
            "slack.filename_keywords", rule: ["threshold": 2, "window": "30m", "keywords": ["secret", "private key"]], window: 1_800),
        RuleFixtures.playbook("slack.max_daily_download", rule: ["threshold": 12], window: 86_400),
        RuleFixtures.playbook("meraki.public_ip_change", rule: [:]),
    ]

    static let names = ["Q3-secret-plan.pdf", "secretary-notes.docx", "PrivateKey.pem", "payroll-2026.xlsx", "holiday.jpg", "private keynote.key"]

    /// Bursts and background traffic over three days for every rule, with some events sharing a second.
    static func events(_ rng: inout SplitMix64) -> [SecurityEvent] {
        var events: [SecurityEvent] = []
        func add(_ action: String, _ at: Double, user: String? = nil, ip: String? = nil, file: String? = nil, serial: String? = nil) {
            let id = "e\(events.count)"
            events.append(
                SecurityEvent(
                    source: serial == nil ? .slackAudit : .merakiUplinks, id: id, at: day0.addingTimeInterval(at.rounded()), action: action,
                    userID: user, ip: ip, fileName: file, serial: serial, interface: serial == nil ? nil : "wan1",
                    previousPublicIP: serial == nil ? nil : "192.0.2.1", publicIP: serial == nil ? nil : "192.0.2.\(events.count % 200 + 2)"))
        }
        for _ in 0..<Int.random(in: 20...35, using: &rng) {
            let start = Double.random(in: 0...(3 * 86_400), using: &rng)
            let user = "W0USER\(Int.random(in: 1...4, using: &rng))"
            switch Int.random(in: 0..<5, using: &rng) {
            case 0:
                let ip = "203.0.113.\(Int.random(in: 1...3, using: &rng))"
                for _ in 0..<Int.random(in: 4...14, using: &rng) { add("user_login_failed", start + Double.random(in: 0...700, using: &rng), ip: ip) }
            case 1, 2:
                for _ in 0..<Int.random(in: 2...8, using: &rng) {
                    add("file_downloaded", start + Double.random(in: 0...4_000, using: &rng), user: user, file: names.randomElement(using: &rng)!)
                }
            case 3:
                for _ in 0..<Int.random(in: 6...16, using: &rng) {
                    add("file_downloaded", start + Double.random(in: 0...40_000, using: &rng), user: user, file: "report.csv")
                }
            default:
                add("uplink_public_ip_changed", start, serial: "Q2XX-\(Int.random(in: 1...2, using: &rng))")
            }
        }
        return events
    }

    static func encoded(_ event: SecurityEvent) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try! encoder.encode(event))
    }

    /// A replay: records through the external sorter (spilling runs of `runBytes`), then the engine, in batches.
    static func replay(_ events: [SecurityEvent], runBytes: Int) throws -> [Detection] {
        let engine = try RuleEngine(playbooks: playbooks)
        let sorter = ExternalSorter(runBytes: runBytes)
        for event in events {
            try encoded(event).withUnsafeBufferPointer { try sorter.append(time: event.at.timeIntervalSince1970, $0) }
        }
        var state = RuleEngine.State()
        var batch: [SecurityEvent] = []
        var detections: [Detection] = []
        try sorter.drain { _, bytes in
            batch.append(try JSONDecoder().decode(SecurityEvent.self, from: Data(bytes)))
            if batch.count == 7 {
                detections += engine.process(batch, state: &state).detections
                batch.removeAll()
            }
        }
        detections += engine.process(batch, state: &state).detections
        return detections
    }

    @Test(arguments: 0..<12) func aReplayFindsTheSameDetectionsInAnyOrder(seed: UInt64) throws {
        var rng = SplitMix64(seed: 0x0DE4_0000 + seed)
        let events = Self.events(&rng)
        let sorted = events.sorted { a, b in a.at != b.at ? a.at < b.at : Self.encoded(a).lexicographicallyPrecedes(Self.encoded(b)) }
        let expected = try Self.replay(sorted, runBytes: 1 << 30)
        #expect(!expected.isEmpty, "the generated events should fire something")
        // The time-sorted file straight through the engine (what replay did before) agrees.
        let engine = try RuleEngine(playbooks: Self.playbooks)
        var state = RuleEngine.State()
        let straight = engine.process(events.sorted { $0.at < $1.at }, state: &state).detections
        #expect(Set(straight.map(\.id)) == Set(expected.map(\.id)))

        let shuffled = events.shuffled(using: &rng)
        #expect(try Self.replay(shuffled, runBytes: 1 << 30) == expected, "shuffled, seed \(seed)")
        #expect(try Self.replay(shuffled, runBytes: 2_048) == expected, "shuffled through spilled runs, seed \(seed)")
        #expect(try Self.replay(Array(events.reversed()), runBytes: 4_096) == expected, "newest first, seed \(seed)")
        // Two exports concatenated: one kind of action, then the rest.
        let concatenated = events.filter { $0.action == "user_login_failed" } + events.filter { $0.action != "user_login_failed" }
        #expect(try Self.replay(concatenated, runBytes: 1 << 30) == expected, "concatenated, seed \(seed)")
    }

    /// Live collection: events delivered up to the lateness horizon behind the newest are still counted in their
    /// window; every detection of the time-sorted run is found (for the same rule and subject, within its episode).
    @Test(arguments: 0..<12) func lateEventsWithinTheHorizonMissNothing(seed: UInt64) throws {
        var rng = SplitMix64(seed: 0x1A7E_0000 + seed)
        let events = Self.events(&rng)
        let engine = try RuleEngine(playbooks: Self.playbooks, maxLateness: 3_600)
        var sortedState = RuleEngine.State()
        let expected = engine.process(events.sorted { $0.at < $1.at }, state: &sortedState).detections

        // Each event is delivered at most 55 minutes behind the newest one delivered before it.
        let delivered = events.map { ($0, $0.at.addingTimeInterval(Double.random(in: 0...3_300, using: &rng))) }
            .sorted { $0.1 < $1.1 }.map(\.0)
        var state = RuleEngine.State()
        var found: [Detection] = []
        var index = 0
        while index < delivered.count {
            let size = Int.random(in: 1...20, using: &rng)
            found += engine.process(Array(delivered[index..<min(index + size, delivered.count)]), state: &state).detections
            index += size
        }
        for detection in expected {
            let episode = Double(max(engine.rules.first { $0.detection == detection.detection }?.window ?? 0, 3_600))
            let match = found.contains {
                $0.detection == detection.detection && $0.subject == detection.subject
                    && abs(($0.occurredAt ?? .distantPast).timeIntervalSince(detection.occurredAt ?? .distantFuture)) <= episode
            }
            #expect(match, "missed \(detection.id) (seed \(seed))")
        }
    }

    @Test func anEventAnHourLateIsCountedWithThePeersOfItsWindow() throws {
        let rules = [RuleFixtures.playbook("slack.failed_logins_by_ip", rule: ["threshold": 20, "window": "10m"])]
        let engine = try RuleEngine(playbooks: rules, maxLateness: 3_600)
        var state = RuleEngine.State()
        let ip = "203.0.113.9"
        let burst = (0..<20).map { RuleFixtures.event("user_login_failed", at: Double($0) * 15, ip: ip) }
        #expect(engine.process(burst, state: &state).detections.isEmpty)
        // A later, unrelated failure from the same address moves "newest" on by 45 minutes …
        #expect(engine.process([RuleFixtures.event("user_login_failed", at: 2_700, ip: ip)], state: &state).detections.isEmpty)
        // … and the burst's 21st failure arrives 40 minutes late: it still completes the burst's window.
        let late = engine.process([RuleFixtures.event("user_login_failed", at: 310, ip: ip)], state: &state).detections
        #expect(late.count == 1)
        #expect(late.first?.evidence?["count"] == 21)
    }
}
