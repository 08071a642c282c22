import Foundation
import Logging
import SentryCore
import SentryDetect
import SentryStore
import SentryTestSupport
import Testing

/// Cases found in review: concurrent deliveries, newest-first input, episodes, uplink events in one second.
@Suite struct DetectReviewFixTests {
    typealias R = RuleFixtures

    @Test func concurrentDeliveriesKeepEveryCount() async throws {
        let store = try SQLiteAlertStore.inMemory()
        let playbooks = [R.playbook("slack.failed_logins_by_ip", rule: ["threshold": 20, "window": "10m"])]
        let clock = R.day0.addingTimeInterval(600)
        let pipeline = try await DetectionPipeline(
            playbooks: playbooks, store: store, channel: "C0ALERTS", now: { clock }, logger: Logger(label: "t"), onAlerts: {})
        let events = (0..<20).map { R.event("user_login_failed", at: Double($0), ip: "203.0.113.20") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for event in events { group.addTask { try await pipeline.deliver([event]) } }
            try await group.waitForAll()
        }
        #expect(try await store.countAlerts().isEmpty)
        try await pipeline.deliver([R.event("user_login_failed", at: 30, ip: "203.0.113.20")])
        #expect(try await store.countAlerts()[.open] == 1)
    }

    @Test func newestFirstInputFindsTheSameDetections() throws {
        let rules = [R.playbook("slack.failed_logins_by_ip", rule: ["threshold": 20, "window": "10m"])]
        let burst = (0..<21).map { R.event("user_login_failed", at: 86_400 + Double($0) * 10, ip: "203.0.113.21") }
        let noise = (0..<200).map { R.event("user_login", at: Double($0) * 3_000, ip: "198.51.100.1") }
        let ordered = (burst + noise).sorted { $0.at < $1.at }
        let engine = try RuleEngine(playbooks: rules)
        var forward = RuleEngine.State()
        var backward = RuleEngine.State()
        let a = engine.process(ordered, state: &forward).detections.count
        let b = engine.process(ordered.reversed(), state: &backward).detections.count
        #expect(a == 1 && b == 1)
    }

    @Test func aCountThatStaysAboveTheThresholdIsOneEpisode() throws {
        let rules = [
            Playbook(
                id: "s", title: "s", detection: "slack.sensitive_file_downloads", severity: .high, groupingWindow: 86_400,
                rule: ["threshold": 5, "window": "14d", "name_patterns": ["(?i)payroll"]], source: "s.yml")
        ]
        let events =
            (0..<6).map { R.event("file_downloaded", at: Double($0) * 60, file: "payroll.xlsx") }
            + (1...10).map { R.event("file_downloaded", at: Double($0) * 86_400, file: "payroll.xlsx") }
        let engine = try RuleEngine(playbooks: rules)
        var state = RuleEngine.State()
        #expect(engine.process(events, state: &state).detections.count == 1)
    }

    @Test func twoUplinkChangesInOneReportBothFire() throws {
        let rules = [R.playbook("meraki.public_ip_change", rule: [:])]
        let wan1 = SecurityEvent(
            source: .merakiUplinks, id: "Q2/wan1/ip/1", at: R.day0, action: "uplink_public_ip_changed", serial: "Q2", interface: "wan1",
            previousPublicIP: "198.51.100.1", publicIP: "198.51.100.2")
        let failover = SecurityEvent(
            source: .merakiUplinks, id: "Q2/cellular/failover/1", at: R.day0, action: "uplink_failover", serial: "Q2", interface: "cellular")
        let engine = try RuleEngine(playbooks: rules)
        var state = RuleEngine.State()
        #expect(engine.process([wan1, failover], state: &state).detections.count == 2)
    }

    @Test func hugeNumbersInPlaybookTestsAreErrorsNotCrashes() async {
        let playbook = Playbook(
            id: "p", title: "p", detection: "slack.failed_logins_by_ip", severity: .low,
            tests: [
                [
                    "name": "huge",
                    "events": [["action": "user_login_failed", "ip": "203.0.113.1", "at": "2026-11-22T09:00:00Z", "repeat": .number(1e30)]],
                    "expect": .number(1e30),
                ]
            ])
        let results = await PlaybookTestRunner.run(playbook)
        #expect(results.count == 1 && results[0].passed == false)
    }
}
