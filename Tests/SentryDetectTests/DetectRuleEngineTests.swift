import Foundation
import SentryCore
import SentryDetect
import SentryStore
import SentryTestSupport
import Testing

private typealias R = RuleFixtures

@Suite struct DetectRuleEngineTests {
    func run(_ playbooks: [Playbook], _ events: [SecurityEvent]) throws -> [Detection] {
        let engine = try RuleEngine(playbooks: playbooks)
        var state = RuleEngine.State()
        return engine.process(events, state: &state).detections
    }

    @Test func failedLoginsFireAboveTheThresholdNotAtIt() throws {
        let rules = [R.playbook("slack.failed_logins_by_ip", rule: ["threshold": 5, "window": "10m"])]
        let five = (0..<5).map { R.event("user_login_failed", at: Double($0) * 60, ip: "203.0.113.7") }
        #expect(try run(rules, five).isEmpty)
        let six = five + [R.event("user_login_failed", at: 300, ip: "203.0.113.7")]
        let fired = try run(rules, six)
        #expect(fired.count == 1)
        #expect(fired.first?.subject == Subject(ip: "203.0.113.7"))
        #expect(fired.first?.evidence?["count"] == 6)
        // Spread wider than the window: never more than 5 in any 10 minutes.
        let spread = (0..<12).map { R.event("user_login_failed", at: Double($0) * 121, ip: "203.0.113.7") }
        #expect(try run(rules, spread).isEmpty)
        // The window edge: events exactly 10 minutes apart are in different windows.
        let edge =
            (0..<5).map { R.event("user_login_failed", at: Double($0), ip: "203.0.113.7") } + [
                R.event("user_login_failed", at: 600, ip: "203.0.113.7")
            ]
        #expect(try run(rules, edge).isEmpty)
    }

    @Test func anomaliesCountOnlyForCredentialTesting() throws {
        let rules = [
            R.playbook("slack.failed_logins_by_ip", rule: ["threshold": 1, "window": "10m", "anomaly_reasons": ["unexpected_credential_testing"]])
        ]
        let other = (0..<3).map { R.event("anomaly", at: Double($0), ip: "203.0.113.8", reason: "unexpected_admin_action") }
        #expect(try run(rules, other).isEmpty)
        let testing = (0..<2).map { R.event("anomaly", at: Double($0), ip: "203.0.113.8", reason: "tor,unexpected_credential_testing") }
        #expect(try run(rules, testing).count == 1)
    }

    @Test func outOfOrderEventsCountTheSame() throws {
        let rules = [R.playbook("slack.failed_logins_by_ip", rule: ["threshold": 3, "window": "10m"])]
        let events = [500.0, 100, 400, 200].map { R.event("user_login_failed", at: $0, ip: "198.51.100.1") }
        #expect(try run(rules, events).count == 1)
        #expect(try run(rules, events.reversed()).count == 1)
    }

    @Test func dailyDownloadsResetAtUTCMidnight() throws {
        let rules = [R.playbook("slack.max_daily_download", rule: ["threshold": 3])]
        // 3 before midnight, 3 after: no UTC day has more than 3.
        let split = [86_397.0, 86_398, 86_399, 86_400, 86_401, 86_402].map { R.event("file_downloaded", at: $0) }
        #expect(try run(rules, split).isEmpty)
        let sameDay = [86_400.0, 86_401, 86_402, 172_799].map { R.event("file_downloaded", at: $0) }
        let fired = try run(rules, sameDay)
        #expect(fired.count == 1)
        #expect(fired.first?.subject == Subject(slackUserID: "W0USER1"))
    }

    @Test func sensitiveFilesMatchByNameIDOrChannel() throws {
        let rules = [
            R.playbook(
                "slack.sensitive_file_downloads", rule: ["threshold": 2, "window": "14d", "name_patterns": ["(?i)payroll"], "file_ids": ["F0SECRET"]])
        ]
        let events = [
            R.event("file_downloaded", at: 0, file: "Payroll-2026.xlsx"),
            R.event("file_downloaded", at: 86_400, file: "notes.txt", fileID: "F0SECRET"),
            R.event("file_downloaded", at: 2 * 86_400, file: "lunch.png"),
        ]
        #expect(try run(rules, events).isEmpty)
        #expect(try run(rules, events + [R.event("file_downloaded", at: 13 * 86_400, file: "PAYROLL.csv")]).count == 1)
        #expect(try run(rules, events + [R.event("file_downloaded", at: 15 * 86_400, file: "PAYROLL.csv")]).isEmpty)
    }

    @Test func keywordsAcrossActions() throws {
        let rules = [R.playbook("slack.filename_keywords", rule: ["threshold": 1, "window": "1h", "keywords": ["confidential"]])]
        let events = [
            R.event("file_uploaded", at: 0, file: "Q3 CONFIDENTIAL deck.pdf"),
            R.event("file_public_link_created", at: 60, file: "confidential-roadmap.key"),
        ]
        #expect(try run(rules, events).count == 1)
    }

    @Test func onlyOneDetectionPerSubjectPerGroupingWindow() throws {
        let rules = [R.playbook("slack.failed_logins_by_ip", rule: ["threshold": 2, "window": "10m"], window: 3_600)]
        let burst = (0..<50).map { R.event("user_login_failed", at: Double($0) * 10, ip: "203.0.113.9") }
        #expect(try run(rules, burst).count == 1)
    }

    @Test func uplinkChangesFireEveryTime() throws {
        let rules = [R.playbook("meraki.public_ip_change", rule: ["alert_on_recovery": false])]
        let change = SecurityEvent(
            source: .merakiUplinks, id: "Q2/wan1/ip/1", at: R.day0, action: "uplink_public_ip_changed", networkID: "N_1",
            serial: "Q2XX", interface: "wan1", previousPublicIP: "198.51.100.1", publicIP: "198.51.100.2")
        let recovered = SecurityEvent(
            source: .merakiUplinks, id: "Q2/wan1/rec/2", at: R.day0, action: "uplink_recovered", serial: "Q2XX", interface: "wan1")
        let fired = try run(rules, [change, recovered])
        #expect(fired.count == 1)
        #expect(fired.first?.subject == Subject(merakiNetworkID: "N_1", merakiSerial: "Q2XX"))
        #expect(fired.first?.summary?.contains("198.51.100.1 to 198.51.100.2") == true)
    }

    @Test func badRuleSettingsAreNamed() {
        #expect(throws: RuleEngine.Problem.self) { try RuleEngine(playbooks: [R.playbook("slack.failed_logins_by_ip", rule: ["threshold": 0])]) }
        #expect(throws: RuleEngine.Problem.self) { try RuleEngine(playbooks: [R.playbook("slack.failed_logins_by_ip", rule: ["window": "soon"])]) }
        #expect(throws: RuleEngine.Problem.self) {
            try RuleEngine(playbooks: [R.playbook("slack.sensitive_file_downloads", rule: ["name_patterns": ["(unclosed"]])])
        }
    }

    @Test func shippedPlaybooksLoadIntoTheEngine() throws {
        let root = CoreFixtures.playbooks
        let loaded = PlaybookLoader.load(directory: root.path)
        #expect(loaded.problems.isEmpty)
        let engine = try RuleEngine(playbooks: loaded.playbooks)
        #expect(Set(engine.rules.map(\.detection)) == Set(RuleEngine.builtIn))
    }

    @Test func countsAndFiredKeysSetFromOutsideAreCountedOn() throws {
        let engine = try RuleEngine(playbooks: [R.playbook("slack.failed_logins_by_ip", rule: ["threshold": 4, "window": "10m"])])
        let events = (0..<6).map { R.event("user_login_failed", at: Double($0) * 60, ip: "203.0.113.10") }
        // As the store loads them after a restart: three counted before it.
        var state = RuleEngine.State()
        state.times["slack.failed_logins_by_ip|ip=203.0.113.10"] = events.prefix(3).map { $0.at.timeIntervalSince1970 }
        #expect(engine.process([events[3]], state: &state).detections.isEmpty)
        let fired = engine.process([events[4]], state: &state)
        #expect(fired.detections.count == 1)
        // The same as counting all five in one go.
        var whole = RuleEngine.State()
        #expect(engine.process(Array(events.prefix(5)), state: &whole).detections == fired.detections)
        #expect(whole == state)
        // Fired keys loaded after a restart hold the episode: the sixth event fires nothing.
        let loaded = ["slack.failed_logins_by_ip|ip=203.0.113.10": events.prefix(5).map { $0.at.timeIntervalSince1970 }]
        var restarted = RuleEngine.State()
        restarted.times = loaded
        for key in state.fired { restarted.fired.insert(key) }
        #expect(engine.process([events[5]], state: &restarted).detections.isEmpty)
        var forgetful = RuleEngine.State()
        forgetful.times = loaded
        #expect(engine.process([events[5]], state: &forgetful).detections.count == 1)
    }

    @Test func aKeyIdleFarLongerThanItsWindowAndLatenessIsForgotten() throws {
        // Forgotten once it is twice (10 min + 10 min) behind the newest event counted, at the next sweep.
        let engine = try RuleEngine(
            playbooks: [R.playbook("slack.failed_logins_by_ip", rule: ["threshold": 1, "window": "10m"])], maxLateness: 600)
        let others = (0..<RuleEngine.State.sweepEvery).map { index in
            R.event("user_login_failed", at: 1_000 + Double(index) / 20, ip: "10.\(index / 65_536).\(index / 256 % 256).\(index % 256)")
        }
        func lateSecondEvent(at seconds: Double) -> Int {
            var state = RuleEngine.State()
            let first = R.event("user_login_failed", at: seconds, ip: "203.0.113.77")
            let late = R.event("user_login_failed", at: seconds + 1, ip: "203.0.113.77")
            return engine.process([first], state: &state).detections.count + engine.process(others, state: &state).detections.count
                + engine.process([late], state: &state).detections.filter { $0.subject == Subject(ip: "203.0.113.77") }.count
        }
        // The stream ends at 1,000 + 65,536 / 20 ≈ 4,277 s: 0 is far behind it, 3,000 within 40 minutes of it.
        #expect(lateSecondEvent(at: 0) == 0)
        #expect(lateSecondEvent(at: 3_000) == 1)
    }

    @Test func aRestartInTheMiddleOfAWindowNeitherForgetsNorDoubleCounts() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("window-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let playbooks = [R.playbook("slack.failed_logins_by_ip", rule: ["threshold": 4, "window": "10m"])]
        let events = (0..<5).map { R.event("user_login_failed", at: Double($0) * 60, ip: "203.0.113.10") }
        let clock = R.day0.addingTimeInterval(600)
        do {
            let store = try SQLiteAlertStore(path: path)
            let pipeline = try await DetectionPipeline(
                playbooks: playbooks, store: store, channel: "C0ALERTS", now: { clock }, logger: .init(label: "t"), onAlerts: {})
            try await pipeline.deliver(Array(events.prefix(3)))
            #expect(try await store.countAlerts().isEmpty)
        }
        let store = try SQLiteAlertStore(path: path)
        let pipeline = try await DetectionPipeline(
            playbooks: playbooks, store: store, channel: "C0ALERTS", now: { clock }, logger: .init(label: "t"), onAlerts: {})
        // The first three again (a collector re-reading after the restart) count nothing.
        try await pipeline.deliver(Array(events.prefix(3)))
        #expect(try await store.countAlerts().isEmpty)
        try await pipeline.deliver([events[3]])
        #expect(try await store.countAlerts().isEmpty)
        try await pipeline.deliver([events[4]])
        #expect(try await store.countAlerts()[.open] == 1)
        let counters = await pipeline.counters
        #expect(counters.duplicates == 3)
    }
}
