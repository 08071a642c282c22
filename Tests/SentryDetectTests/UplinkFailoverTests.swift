import Foundation
import SentryCore
import SentryDetect
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// Issue 11.3: the active uplink moving between WAN uplinks, and devices silent for days.
@Suite struct UplinkFailoverTests {
    typealias F = UplinkFixtures
    let tracker = UplinkTracker(staleAfter: 180)

    /// An MX with two WAN uplinks, as the simulator's Branch MX.
    static func dualWAN(
        at reportedAt: Date?, serial: String = F.mx, wan1: String? = "active", wan2: String? = "ready", wan1IP: String? = "203.0.113.1",
        wan2IP: String? = "198.51.100.30"
    ) -> UplinkReport {
        UplinkReport(
            serial: serial, networkID: F.network, lastReportedAt: reportedAt,
            uplinks: [F.uplink("wan1", wan1, publicIP: wan1IP), F.uplink("wan2", wan2, publicIP: wan2IP, ip: "192.168.200.2")])
    }

    func run(_ polls: [(reports: [UplinkReport], now: Date)], from start: [String: UplinkSnapshot] = [:]) -> [UplinkTracker.Outcome] {
        var snapshots = start
        return polls.map { poll in
            let outcome = tracker.track(previous: snapshots, reports: poll.reports, now: poll.now)
            snapshots = outcome.snapshots
            return outcome
        }
    }

    @Test func wan1ToWan2IsAFailoverAndTheWayBackIsOneToo() throws {
        let outcomes = run([
            ([Self.dualWAN(at: F.at(0))], F.at(10)),
            ([Self.dualWAN(at: F.at(60), wan1: "failed", wan2: "active")], F.at(70)),
            ([Self.dualWAN(at: F.at(120), wan1: "failed", wan2: "active")], F.at(130)),
            ([Self.dualWAN(at: F.at(180), wan1: "active", wan2: "ready")], F.at(190)),
        ])
        let failover = try #require(outcomes[1].events.first)
        #expect(outcomes[1].events.count == 1)
        #expect(failover.action == "uplink_failover")
        #expect(failover.interface == "wan2")
        #expect(failover.serial == F.mx && failover.networkID == F.network)
        #expect(failover.previousPublicIP == "203.0.113.1" && failover.publicIP == "198.51.100.30")
        #expect(failover.id == "\(F.mx)/wan2/uplink_failover/\(1_790_000_060)/198.51.100.30")
        #expect(failover.detail == "\(F.mx) failed over from wan1 to wan2")
        #expect(outcomes[2].events.isEmpty)
        // MX syslog says `failover to wan1` on the way back; the collector tells it the same way.
        #expect(outcomes[3].events.map(\.action) == ["uplink_failover"])
        #expect(outcomes[3].events.map(\.interface) == ["wan1"])
    }

    @Test func bothWANsActiveCarryOnWan1UntilItFails() {
        let outcomes = run([
            ([Self.dualWAN(at: F.at(0), wan2: "active")], F.at(10)),
            ([Self.dualWAN(at: F.at(60), wan1: "failed", wan2: "active")], F.at(70)),
        ])
        #expect(outcomes[1].events.map(\.interface) == ["wan2"])
    }

    @Test func aMoveSeenOnlyAcrossAMomentWithNothingActiveStillFires() {
        let outcomes = run([
            ([Self.dualWAN(at: F.at(0))], F.at(10)),
            ([Self.dualWAN(at: F.at(60), wan1: "failed", wan2: "connecting")], F.at(70)),
            ([Self.dualWAN(at: F.at(120), wan1: "failed", wan2: "active")], F.at(130)),
        ])
        #expect(outcomes[1].events.isEmpty)
        #expect(outcomes[2].events.map(\.action) == ["uplink_failover"])
        #expect(outcomes[2].events.first?.previousPublicIP == "203.0.113.1")
        #expect(outcomes[2].events.first?.detail == "\(F.mx) failed over from wan1 to wan2")
    }

    @Test func aWiredOnlyOutageFiresNothing() {
        let outcomes = run([
            ([Self.dualWAN(at: F.at(0))], F.at(10)),
            ([Self.dualWAN(at: F.at(60), wan1: "failed", wan2: "failed")], F.at(70)),
            ([Self.dualWAN(at: F.at(120))], F.at(130)),
        ])
        #expect(outcomes.allSatisfy { $0.events.isEmpty })
    }

    @Test func snapshotsRememberTheLastCarrier() {
        let outcomes = run([
            ([Self.dualWAN(at: F.at(0))], F.at(10)),
            ([Self.dualWAN(at: F.at(60), wan1: "failed", wan2: "failed")], F.at(70)),
        ])
        #expect(outcomes[0].snapshots["\(F.mx)/wan1"]?.carried == true)
        #expect(outcomes[0].snapshots["\(F.mx)/wan2"]?.carried == false)
        #expect(outcomes[1].snapshots["\(F.mx)/wan1"]?.carried == true)
    }

    @Test func snapshotsSavedBeforeTheCarrierWasKeptBehaveAsBefore() {
        // Old snapshots (no `carried`): a move across a moment with nothing active is not told, as before.
        var legacy = tracker.track(previous: [:], reports: [Self.dualWAN(at: F.at(0), wan1: "failed", wan2: "failed")], now: F.at(10)).snapshots
        for key in legacy.keys { legacy[key]?.carried = nil }
        let outcome = tracker.track(previous: legacy, reports: [Self.dualWAN(at: F.at(60), wan1: "failed", wan2: "active")], now: F.at(70))
        #expect(outcome.events.isEmpty)
        // And an old snapshot without the key decodes.
        let json = #"{"serial":"Q2","interface":"wan1","status":"active","reportedAt":0}"#
        let decoded = try? JSONDecoder().decode(UplinkSnapshot.self, from: Data(json.utf8))
        #expect(decoded?.carried == nil && decoded?.status == "active")
    }

    @Test func aWan1ToWan2FailoverWithCellularStandingByIsNotACellularFailover() {
        let report = { (at: TimeInterval, wan1: String, wan2: String) in
            UplinkReport(
                serial: F.mx, networkID: F.network, lastReportedAt: F.at(at),
                uplinks: [
                    F.uplink("wan1", wan1, publicIP: "203.0.113.1"), F.uplink("wan2", wan2, publicIP: "198.51.100.30"),
                    F.uplink("cellular", "ready", publicIP: "198.51.100.9"),
                ])
        }
        let outcomes = run([([report(0, "active", "ready")], F.at(10)), ([report(60, "failed", "active")], F.at(70))])
        #expect(outcomes[1].events.map(\.interface) == ["wan2"])
    }

    // MARK: Silent devices

    func collector(_ source: any UplinkStatusSource, _ store: any DetectorStore, _ sink: any EventSink) -> MerakiUplinkCollector {
        // The tracker the server builds: only the poll interval is given.
        MerakiUplinkCollector(source: source, store: store, sink: sink, interval: .seconds(60), clock: ManualClock(F.at(0)), logger: quietLogger)
    }

    @Test func aDeviceGoneFromTheListingForTwoDaysThatComesBackWithANewIPAlerts() async throws {
        let store = try SQLiteAlertStore.inMemory()
        let other = F.mx(at: F.at(0), serial: "Q234-ABCD-0005")
        let source = FakeUplinkSource([F.mx(at: F.at(0)), other])
        let sink = RecordingUplinkSink()
        let collector = collector(source, store, sink)
        #expect(await collector.pollOnce(now: F.at(30)) == .succeeded(delivered: 0, suppressed: 0))
        source.set([other])
        // Polled all along while it is gone (every six hours here, every minute in service).
        for hour in stride(from: 0.0, through: 42, by: 6) {
            #expect(await collector.pollOnce(now: F.at(90 + hour * 3_600)) == .succeeded(delivered: 0, suppressed: 0))
        }
        #expect(try await store.uplinkSnapshots()["\(F.mx)/wan1"]?.publicIP == "203.0.113.1")
        let twoDays = 2 * 86_400.0
        source.set([F.mx(at: F.at(twoDays), wan1IP: "203.0.113.99"), F.mx(at: F.at(twoDays), serial: "Q234-ABCD-0005")])
        #expect(await collector.pollOnce(now: F.at(twoDays + 30)) == .succeeded(delivered: 1, suppressed: 0))
        let event = try #require(sink.events.first)
        #expect(event.action == "uplink_public_ip_changed")
        #expect(event.serial == F.mx)
        #expect(event.previousPublicIP == "203.0.113.1" && event.publicIP == "203.0.113.99")
    }

    @Test func aDeviceListedButSilentForTwoDaysThatComesBackWithANewIPAlerts() async throws {
        let store = try SQLiteAlertStore.inMemory()
        let source = FakeUplinkSource([F.mx(at: F.at(0))])
        let sink = RecordingUplinkSink()
        let collector = collector(source, store, sink)
        _ = await collector.pollOnce(now: F.at(30))
        // Still listed, its last report going stale.
        for hour in stride(from: 1.0, through: 48, by: 1) {
            _ = await collector.pollOnce(now: F.at(hour * 3_600))
        }
        #expect(sink.events.isEmpty)
        source.set([F.mx(at: F.at(49 * 3_600), wan1IP: "203.0.113.99")])
        _ = await collector.pollOnce(now: F.at(49 * 3_600 + 30))
        #expect(sink.events.map(\.publicIP) == ["203.0.113.99"])
    }

    @Test func aDeviceGoneForMoreThanThirtyDaysIsPrunedAndComesBackAsAFirstSight() async throws {
        let store = try SQLiteAlertStore.inMemory()
        let other = F.mx(at: F.at(0), serial: "Q234-ABCD-0005")
        let source = FakeUplinkSource([F.mx(at: F.at(0)), other])
        let sink = RecordingUplinkSink()
        let collector = collector(source, store, sink)
        _ = await collector.pollOnce(now: F.at(30))
        let day = 86_400.0
        source.set([F.mx(at: F.at(29 * day))])
        _ = await collector.pollOnce(now: F.at(29 * day + 30))
        #expect(try await store.uplinkSnapshots().keys.contains("Q234-ABCD-0005/wan1"))
        source.set([F.mx(at: F.at(30 * day))])
        _ = await collector.pollOnce(now: F.at(30 * day + 30))
        #expect(try await store.uplinkSnapshots().keys.sorted() == ["\(F.mx)/cellular", "\(F.mx)/wan1"])
        source.set([F.mx(at: F.at(31 * day)), F.mx(at: F.at(31 * day), serial: "Q234-ABCD-0005", wan1IP: "203.0.113.50")])
        _ = await collector.pollOnce(now: F.at(31 * day + 30))
        #expect(sink.events.isEmpty)
        #expect(UplinkTracker.defaultForgetAfter == 30 * day)
    }
}
