import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryDetect
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// Issue 11.3: one failover, told by the uplink collector and by MX syslog, is one alert naming the appliance.
@Suite struct DetectFailoverStoryTests {
    typealias A = DeviceNameIndex.Appliance
    static let logger = Logger(label: "failover-test", factory: { _ in SwiftLogNoOpLogHandler() })
    static let branch = A(serial: "Q234-ABCD-0005", networkID: "N_24329157", name: "Branch MX")
    static let main = A(serial: "Q234-ABCD-0001", networkID: "N_24329156", name: "Main Office MX")

    // MARK: Names

    @Test(arguments: ["Branch MX", "Branch_MX", "branch_mx", "Q234-ABCD-0005", " Branch_MX "])
    func anMXNameFindsItsAppliance(name: String) {
        #expect(DeviceNameIndex([Self.branch, Self.main]).lookup(name) == .found(Self.branch))
    }

    @Test func aSharedOrUnknownNameFindsNothing() {
        let twin = A(serial: "Q234-ABCD-0009", networkID: "N_9", name: "Branch MX")
        let index = DeviceNameIndex([Self.branch, Self.main, twin])
        #expect(index.lookup("Branch_MX") == .ambiguous(["Q234-ABCD-0005", "Q234-ABCD-0009"]))
        #expect(index.lookup("MX84") == .unknown)
        #expect(index.lookup("") == .unknown)
        // An exact match wins over one without regard to case.
        let cased = DeviceNameIndex([A(serial: "Q1", networkID: nil, name: "mx"), A(serial: "Q2", networkID: nil, name: "MX")])
        #expect(cased.lookup("MX") == .found(A(serial: "Q2", networkID: nil, name: "MX")))
    }

    // MARK: Refreshing

    @Test func theCacheLoadsFirstThenRefreshesEveryFifteenMinutes() {
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        var cache = DeviceNameCache()
        #expect(cache.answer("Branch_MX", now: t0) == .loadFirst)
        cache.loaded(DeviceNameIndex([Self.branch]), at: t0)
        #expect(cache.answer("Branch_MX", now: t0.addingTimeInterval(899)) == .lookup(.found(Self.branch)))
        #expect(cache.answer("Branch_MX", now: t0.addingTimeInterval(900)) == .loadFirst)
    }

    @Test func anUnknownNameReadsTheListAgainAtMostOnceAMinute() {
        let t0 = Date(timeIntervalSince1970: 1_790_000_000)
        var cache = DeviceNameCache()
        cache.loaded(DeviceNameIndex([Self.branch]), at: t0)
        #expect(cache.answer("New_MX", now: t0.addingTimeInterval(30)) == .lookup(.unknown))
        #expect(cache.answer("New_MX", now: t0.addingTimeInterval(60)) == .loadFirst)
        // A failed read keeps what was known and waits a minute.
        cache.loadFailed(at: t0.addingTimeInterval(60))
        #expect(cache.answer("Branch_MX", now: t0.addingTimeInterval(61)) == .lookup(.found(Self.branch)))
        #expect(cache.answer("New_MX", now: t0.addingTimeInterval(119)) == .lookup(.unknown))
        #expect(cache.answer("New_MX", now: t0.addingTimeInterval(120)) == .loadFirst)
    }

    @Test func theDirectoryReadsOnceForConcurrentLookUpsAndOnceAMinuteForAnUnknownName() async {
        let clock = DirectoryClock()
        let inventory = ScriptedInventory([.success([Self.branch])])
        let directory = CachedApplianceDirectory(inventory: inventory, now: { clock.now }, logger: Self.logger)
        let answers = await withTaskGroup(of: DeviceNameIndex.Lookup.self) { group in
            for _ in 0..<10 { group.addTask { await directory.appliance(named: "Branch_MX") } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers == Array(repeating: .found(Self.branch), count: 10))
        #expect(inventory.calls == 1)
        #expect(await directory.appliance(named: "MX84") == .unknown)
        #expect(await directory.appliance(named: "MX84") == .unknown)
        #expect(inventory.calls == 1)
        // A minute later the name is looked for again: an appliance renamed since.
        inventory.script([.success([A(serial: "Q234-ABCD-0005", networkID: "N_24329157", name: "MX84")])])
        clock.advance(60)
        #expect(await directory.appliance(named: "MX84") == .found(A(serial: "Q234-ABCD-0005", networkID: "N_24329157", name: "MX84")))
        #expect(inventory.calls == 2)
    }

    @Test func aDashboardOutageKeepsTheNamesKnownAndTriesAgainAMinuteLater() async {
        let clock = DirectoryClock()
        let inventory = ScriptedInventory([.success([Self.branch]), .failure(MerakiError.http(status: 503, errors: ["Service unavailable"]))])
        let directory = CachedApplianceDirectory(inventory: inventory, now: { clock.now }, logger: Self.logger)
        #expect(await directory.appliance(named: "Branch_MX") == .found(Self.branch))
        clock.advance(900)
        #expect(await directory.appliance(named: "Branch_MX") == .found(Self.branch))
        #expect(await directory.appliance(named: "Branch_MX") == .found(Self.branch))
        #expect(inventory.calls == 2)
        clock.advance(60)
        _ = await directory.appliance(named: "Branch_MX")
        #expect(inventory.calls == 3)
    }

    // MARK: Mapping syslog events

    @Test func syslogEventsGetTheSerialAndNetworkOfTheirAppliance() async throws {
        let sink = RecordingEventSink()
        let directory = CachedApplianceDirectory(inventory: ScriptedInventory([.success([Self.branch])]), logger: Self.logger)
        let mapping = DeviceNameMappingSink(inner: sink, directory: directory, logger: Self.logger)
        let now = SyslogFixtures.now
        let parser = SyslogParser()
        let lines = ["<134>1 1782863990.1 Branch_MX events failover to wan2", "<134>1 1782863991.1 MX84 events failover to cellular"]
        let events = try lines.map { try #require(MerakiSyslogEvents.event(from: try parser.parse($0, receivedAt: now), receivedAt: now)) }
        let uplink = SecurityEvent(source: .merakiUplinks, id: "u", at: now, action: "uplink_failover", networkID: "N_1", serial: "Branch_MX")
        try await mapping.deliver(events + [uplink])
        let delivered = await sink.events
        #expect(delivered.map(\.serial) == ["Q234-ABCD-0005", "MX84", "Branch_MX"])
        #expect(delivered.map(\.networkID) == ["N_24329157", nil, "N_1"])
        #expect(delivered.map(\.deviceName) == ["Branch_MX", "MX84", nil])
    }

    // MARK: Rules

    @Test func turningCellularFailoverAlertsOffLeavesWANFailoversOn() throws {
        let playbook = RuleFixtures.playbook("meraki.public_ip_change", rule: ["alert_on_cellular_failover": false])
        let engine = try RuleEngine(playbooks: [playbook])
        var state = RuleEngine.State()
        let at = RuleFixtures.day0
        let events = [
            SecurityEvent(source: .merakiUplinks, id: "a", at: at, action: "uplink_failover", networkID: "N_1", serial: "Q2", interface: "cellular"),
            SecurityEvent(source: .merakiUplinks, id: "b", at: at, action: "uplink_failover", networkID: "N_1", serial: "Q2", interface: "wan2"),
            SecurityEvent(
                source: .syslog, id: "c", at: at, action: "uplink_failover", networkID: "N_1", serial: "Q2", interface: "wan2",
                deviceName: "Branch_MX"),
        ]
        let detections = engine.process(events, state: &state).detections
        #expect(detections.map(\.title) == ["Q2 failed over to wan2", "Q2 failed over to wan2"])
        #expect(Set(detections.map(\.subject)) == [Subject(merakiNetworkID: "N_1", merakiSerial: "Q2")])
        #expect(detections.last?.evidence?["device_name"] == "Branch_MX")
        #expect(detections.first?.evidence?["device_name"] == nil)
    }

    // MARK: Playbook tests

    @Test func playbookTestsCanCountTheAlertsTheirDetectionsMake() async throws {
        let yaml = """
            id: uplinks
            title: Uplinks
            detection: meraki.public_ip_change
            grouping_window: 30m
            tests:
              - name: grouped
                events:
                  - {action: uplink_failover, serial: Q2, network: N_1, interface: wan2, at: "2026-11-22T09:00:00Z"}
                  - {action: uplink_failover, serial: Q2, network: N_1, interface: wan2, source: syslog, at: "2026-11-22T09:00:20Z"}
                expect: 2
                expect_alerts: 2
              - name: after the window
                events:
                  - {action: uplink_failover, serial: Q2, network: N_1, interface: wan2, at: "2026-11-22T09:00:00Z"}
                  - {action: uplink_failover, serial: Q2, network: N_1, interface: wan2, source: syslog, at: "2026-11-22T09:31:00Z"}
                expect: 2
                expect_alerts: 2
              - name: not a number
                events:
                  - {action: uplink_failover, serial: Q2, interface: wan2, at: "2026-11-22T09:00:00Z"}
                expect: 1
                expect_alerts: one
            """
        let parsed = PlaybookLoader.parse(yaml, file: "uplinks.yml")
        #expect(parsed.problems.isEmpty)
        let playbook = try #require(parsed.playbook)
        let results = await PlaybookTestRunner.run(playbook)
        #expect(results.map(\.passed) == [false, true, false])
        #expect(results.first?.message == "2 detections as expected, but expected 2 alerts, got 1")
        #expect(results.last?.message == "`expect_alerts:` must be the number of alerts the detections make")
    }

    // MARK: The whole story

    @Test func aWan1ToWan2FailoverFromTheCollectorAndFromSyslogIsOneAlertOnTheSerial() async throws {
        try await MerakiHarness.run { stage in
            let store = try SQLiteAlertStore.inMemory()
            let reportedAt = try #require(Timestamp.parseISO8601("2018-02-11T00:01:00Z"))
            let clock = reportedAt.addingTimeInterval(30)
            let playbook = RuleFixtures.playbook("meraki.public_ip_change", rule: [:], window: 1_800)
            let pipeline = try await DetectionPipeline(
                playbooks: [playbook], store: store, channel: "C0ALERTS", now: { clock }, logger: Self.logger, onAlerts: {})
            let client = stage.client(retry: .never)
            let collector = MerakiUplinkCollector(
                source: client, store: store, sink: pipeline, interval: .seconds(60), tracker: UplinkTracker(staleAfter: 300),
                clock: ManualClock(clock), logger: Self.logger)
            #expect(await collector.pollOnce(now: reportedAt) == .succeeded(delivered: 0, suppressed: 0))

            // Branch MX loses wan1: the Dashboard shows wan2 active, and the MX says so over syslog.
            stage.simulator.editUplinks { uplinks in
                for index in uplinks.indices where uplinks[index]["serial"]?.stringValue == "Q234-ABCD-0005" {
                    guard case .object(var report) = uplinks[index], case .array(var links)? = report["uplinks"] else { continue }
                    for link in links.indices {
                        guard case .object(var fields) = links[link] else { continue }
                        fields["status"] = .string(fields["interface"]?.stringValue == "wan1" ? "failed" : "active")
                        links[link] = .object(fields)
                    }
                    report["uplinks"] = .array(links)
                    report["lastReportedAt"] = .string("2018-02-11T00:01:00Z")
                    uplinks[index] = .object(report)
                }
            }
            #expect(await collector.pollOnce(now: clock) == .succeeded(delivered: 1, suppressed: 0))

            let syslog = DeviceNameMappingSink(
                inner: pipeline, directory: CachedApplianceDirectory(inventory: client, now: { clock }, logger: Self.logger), logger: Self.logger)
            let line = "<134>1 2018-02-11T00:00:58Z Branch_MX events - - - failover to wan2"
            let event = try #require(MerakiSyslogEvents.event(from: try SyslogParser().parse(line, receivedAt: clock), receivedAt: clock))
            try await syslog.deliver([event])

            let alerts = try await store.alerts(statuses: [.open], limit: 10)
            let alert = try #require(alerts.first)
            #expect(alerts.count == 1)
            #expect(alert.occurrences == 2)
            #expect(alert.subject == Subject(merakiNetworkID: MerakiSimulator.branch, merakiSerial: "Q234-ABCD-0005"))
            #expect(alert.title == "Q234-ABCD-0005 failed over to wan2")
            // Appliances only were asked for.
            let listed = stage.simulator.requests(path: "/organizations/\(MerakiHarness.organizationID)/devices")
            #expect(listed.count == 1)
            #expect(listed.first?.query["productTypes[]"] == "appliance")
        }
    }

    @Test func theSimulatorListsAppliancesOnlyWhenAsked() async throws {
        try await MerakiHarness.run { stage in
            let appliances = try await stage.client().appliances()
            #expect(appliances.map(\.serial).sorted() == ["Q234-ABCD-0001", "Q234-ABCD-0005"])
            #expect(appliances.contains(Self.branch))
            #expect(try await stage.client().devices(perPage: 3).count == 8)
        }
    }
}

/// A clock the test moves.
final class DirectoryClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_790_000_000)

    var now: Date { lock.withLock { current } }
    func advance(_ seconds: TimeInterval) { lock.withLock { current.addTimeInterval(seconds) } }
}

/// Answers the scripted results in order (the last one again when the script runs dry); counts calls.
final class ScriptedInventory: ApplianceInventory, @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<[DeviceNameIndex.Appliance], any Error>]
    private var count = 0

    init(_ results: [Result<[DeviceNameIndex.Appliance], any Error>]) { self.results = results }

    var calls: Int { lock.withLock { count } }
    func script(_ next: [Result<[DeviceNameIndex.Appliance], any Error>]) { lock.withLock { results = next } }

    func appliances() async throws -> [DeviceNameIndex.Appliance] {
        // A moment's wait, so concurrent look-ups overlap the read.
        await Task.yield()
        return try lock.withLock {
            count += 1
            return try (results.count > 1 ? results.removeFirst() : results[0]).get()
        }
    }
}
