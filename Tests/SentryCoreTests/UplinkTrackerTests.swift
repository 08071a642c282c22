import Foundation
import SentryCore
import SentryTestSupport
import Testing

@Suite struct UplinkTrackerTests {
    typealias F = UplinkFixtures
    let tracker = UplinkTracker(staleAfter: 180, forgetAfter: 3_600)

    /// Runs polls in order, each against the snapshots the one before left; returns every outcome.
    func run(_ polls: [(reports: [UplinkReport], now: Date)], from start: [String: UplinkSnapshot] = [:]) -> [UplinkTracker.Outcome] {
        var snapshots = start
        return polls.map { poll in
            let outcome = tracker.track(previous: snapshots, reports: poll.reports, now: poll.now)
            snapshots = outcome.snapshots
            return outcome
        }
    }

    @Test func firstSightRecordsABaselineAndFiresNothing() throws {
        let outcome = tracker.track(previous: [:], reports: [F.mx(at: F.at(0))], now: F.at(30))
        #expect(outcome.events.isEmpty)
        #expect(outcome.removed.isEmpty)
        #expect(outcome.changed.map(\.key) == ["\(F.mx)/cellular", "\(F.mx)/wan1"])
        let wan1 = try #require(outcome.snapshots["\(F.mx)/wan1"])
        #expect(
            wan1
                == UplinkSnapshot(
                    serial: F.mx, interface: "wan1", networkID: F.network, status: "active", ip: "10.0.0.2", publicIP: "203.0.113.1",
                    reportedAt: F.at(0), carried: true))
    }

    @Test func publicIPChangeFiresOnceWithBothAddresses() throws {
        let outcomes = run([
            ([F.mx(at: F.at(0))], F.at(30)),
            ([F.mx(at: F.at(60), wan1IP: "203.0.113.77")], F.at(90)),
            ([F.mx(at: F.at(60), wan1IP: "203.0.113.77")], F.at(150)),
            ([F.mx(at: F.at(120), wan1IP: "203.0.113.77")], F.at(150)),
        ])
        let event = try #require(outcomes[1].events.first)
        #expect(outcomes[1].events.count == 1)
        #expect(event.source == .merakiUplinks)
        #expect(event.action == "uplink_public_ip_changed")
        #expect(event.id == "\(F.mx)/wan1/uplink_public_ip_changed/\(1_790_000_060)/203.0.113.77")
        #expect(event.at == F.at(60))
        #expect(event.serial == F.mx && event.networkID == F.network && event.interface == "wan1")
        #expect(event.previousPublicIP == "203.0.113.1" && event.publicIP == "203.0.113.77")
        #expect(outcomes[1].snapshots["\(F.mx)/wan1"]?.publicIP == "203.0.113.77")
        // The same data again, then a newer report of the same address: nothing new.
        #expect(outcomes[2].events.isEmpty && outcomes[2].changed.isEmpty)
        #expect(outcomes[3].events.isEmpty)
    }

    @Test func theSameDataAgainstTheSameSnapshotsGivesTheSameIDs() {
        // A crash before the snapshots were saved: the next poll sees the old snapshots again.
        let baseline = tracker.track(previous: [:], reports: [F.mx(at: F.at(0))], now: F.at(1)).snapshots
        let change = [F.mx(at: F.at(60), wan1: "failed", wan1IP: "203.0.113.77", cellular: "active")]
        let first = tracker.track(previous: baseline, reports: change, now: F.at(70))
        let again = tracker.track(previous: baseline, reports: change, now: F.at(130))
        #expect(first.events.count == 2)
        #expect(first.events == again.events)
        #expect(Set(first.events.map(\.id)).count == 2)
    }

    @Test func failoverToCellularThenRecovery() throws {
        let outcomes = run([
            ([F.mx(at: F.at(0))], F.at(10)),
            ([F.mx(at: F.at(60), wan1: "failed", cellular: "active")], F.at(70)),
            ([F.mx(at: F.at(120), wan1: "failed", cellular: "active")], F.at(130)),
            ([F.mx(at: F.at(180), wan1: "active", cellular: "ready")], F.at(190)),
        ])
        let failover = try #require(outcomes[1].events.first)
        #expect(outcomes[1].events.count == 1)
        #expect(failover.action == "uplink_failover")
        #expect(failover.interface == "cellular")
        #expect(failover.previousPublicIP == "203.0.113.1" && failover.publicIP == "198.51.100.9")
        #expect(failover.id == "\(F.mx)/cellular/uplink_failover/\(1_790_000_060)/198.51.100.9")
        #expect(outcomes[2].events.isEmpty)
        let recovered = try #require(outcomes[3].events.first)
        #expect(outcomes[3].events.count == 1)
        #expect(recovered.action == "uplink_recovered")
        #expect(recovered.interface == "wan1")
        #expect(recovered.previousPublicIP == "198.51.100.9" && recovered.publicIP == "203.0.113.1")
        #expect(recovered.id == "\(F.mx)/wan1/uplink_recovered/\(1_790_000_180)/203.0.113.1")
    }

    @Test func failoverCaughtWhileNothingWasActiveStillFires() {
        let outcomes = run([
            ([F.mx(at: F.at(0))], F.at(10)),
            ([F.mx(at: F.at(60), wan1: "failed", cellular: "connecting")], F.at(70)),
            ([F.mx(at: F.at(120), wan1: "failed", cellular: "active")], F.at(130)),
            // Back to wired by way of nothing active: the snapshots remember cellular carried last, so this is a
            // recovery (a wired-only outage, wan1 → nothing → wan1, fires nothing: UplinkFailoverTests).
            ([F.mx(at: F.at(180), wan1: "failed", cellular: "failed")], F.at(190)),
            ([F.mx(at: F.at(240), wan1: "active", cellular: "ready")], F.at(250)),
        ])
        #expect(outcomes[1].events.isEmpty)
        #expect(outcomes[2].events.map(\.action) == ["uplink_failover"])
        // The uplink that carried last (wan1) gives the address the device left.
        #expect(outcomes[2].events.first?.previousPublicIP == "203.0.113.1")
        #expect(outcomes[3].events.isEmpty)
        #expect(outcomes[4].events.map(\.action) == ["uplink_recovered"])
    }

    @Test func aCellularOnlyDeviceComingUpIsNotAFailover() {
        func gateway(_ at: TimeInterval, _ status: String) -> UplinkReport {
            UplinkReport(
                serial: "Q2MG-0000-0001", networkID: F.network, lastReportedAt: F.at(at),
                uplinks: [F.uplink("cellular", status, publicIP: "198.51.100.20")])
        }
        let outcomes = run([([gateway(0, "connecting")], F.at(10)), ([gateway(60, "active")], F.at(70))])
        #expect(outcomes[1].events.isEmpty)
    }

    @Test(arguments: ["standby", "", "ACTIVE-ish", nil] as [String?])
    func anUnknownStatusCountsAsNotActive(_ status: String?) {
        let outcomes = run([
            ([F.mx(at: F.at(0))], F.at(10)),
            ([F.mx(at: F.at(60), wan1: status, cellular: "active")], F.at(70)),
        ])
        #expect(outcomes[1].events.map(\.action) == ["uplink_failover"])
        #expect(outcomes[1].snapshots["\(F.mx)/wan1"]?.status == status ?? "")
    }

    @Test func statusesAreReadWithoutRegardToCase() {
        let outcomes = run([
            ([F.mx(at: F.at(0))], F.at(10)),
            ([F.mx(at: F.at(60), wan1: "failed", cellular: "Active")], F.at(70)),
        ])
        #expect(outcomes[1].events.map(\.action) == ["uplink_failover"])
    }

    @Test func aStaleReportFiresNothingAndKeepsWhatWasKnown() {
        let baseline = tracker.track(previous: [:], reports: [F.mx(at: F.at(0))], now: F.at(10)).snapshots
        let staleChange = [F.mx(at: F.at(60), wan1: "failed", wan1IP: "203.0.113.77", cellular: "active")]
        let stale = tracker.track(previous: baseline, reports: staleChange, now: F.at(60 + 181))
        #expect(stale.events.isEmpty)
        #expect(stale.snapshots == baseline)
        #expect(stale.changed.isEmpty && stale.removed.isEmpty)
        #expect(stale.ignored == [.init(serial: F.mx, reason: .stale(lastReportedAt: F.at(60)))])
        // Once the device reports fresh data still showing the change, it fires.
        let fresh = tracker.track(
            previous: stale.snapshots, reports: [F.mx(at: F.at(300), wan1: "failed", wan1IP: "203.0.113.77", cellular: "active")], now: F.at(310))
        #expect(fresh.events.map(\.action) == ["uplink_public_ip_changed", "uplink_failover"])
        // Exactly at the threshold is still fresh.
        #expect(tracker.track(previous: baseline, reports: staleChange, now: F.at(60 + 180)).events.count == 2)
    }

    @Test func aStaleFirstSightIsKeptAsTheBaseline() {
        let stale = tracker.track(previous: [:], reports: [F.mx(at: F.at(0))], now: F.at(86_400))
        #expect(stale.events.isEmpty)
        #expect(stale.snapshots.count == 2)
        let later = tracker.track(previous: stale.snapshots, reports: [F.mx(at: F.at(86_400), wan1IP: "203.0.113.77")], now: F.at(86_410))
        #expect(later.events.map(\.publicIP) == ["203.0.113.77"])
        #expect(later.events.map(\.previousPublicIP) == ["203.0.113.1"])
    }

    @Test func aReportWithoutATimeFiresNothing() {
        let baseline = tracker.track(previous: [:], reports: [F.mx(at: F.at(0))], now: F.at(10)).snapshots
        let outcome = tracker.track(previous: baseline, reports: [F.mx(at: nil, wan1IP: "203.0.113.77")], now: F.at(70))
        #expect(outcome.events.isEmpty)
        #expect(outcome.snapshots == baseline)
        #expect(outcome.ignored == [.init(serial: F.mx, reason: .noReportTime)])
    }

    @Test func aReportGoingBackInTimeIsIgnored() {
        let outcomes = run([
            ([F.mx(at: F.at(120))], F.at(130)),
            ([F.mx(at: F.at(60), wan1: "failed", wan1IP: "203.0.113.77", cellular: "active")], F.at(140)),
        ])
        #expect(outcomes[1].events.isEmpty)
        #expect(outcomes[1].snapshots == outcomes[0].snapshots)
        #expect(outcomes[1].changed.isEmpty && outcomes[1].removed.isEmpty)
        #expect(outcomes[1].ignored == [.init(serial: F.mx, reason: .reportWentBackwards(lastReportedAt: F.at(60), known: F.at(120)))])
    }

    @Test func aMissingOrEmptyPublicIPIsNotAChange() {
        let outcomes = run([
            ([F.mx(at: F.at(0))], F.at(10)),
            ([F.mx(at: F.at(60), wan1IP: nil)], F.at(70)),
            ([F.mx(at: F.at(120), wan1IP: "203.0.113.1")], F.at(130)),
            ([F.mx(at: F.at(180), wan1IP: " ")], F.at(190)),
            ([F.mx(at: F.at(240), wan1IP: "203.0.113.9")], F.at(250)),
        ])
        #expect(outcomes[1].events.isEmpty && outcomes[2].events.isEmpty && outcomes[3].events.isEmpty)
        // The last known address stays in the snapshot while the API says nothing.
        #expect(outcomes[1].snapshots["\(F.mx)/wan1"]?.publicIP == "203.0.113.1")
        #expect(outcomes[4].events.map(\.previousPublicIP) == ["203.0.113.1"])
        #expect(outcomes[4].events.map(\.publicIP) == ["203.0.113.9"])
        // A first sight without an address gets one later without firing.
        let late = run([
            ([F.mx(at: F.at(0), wan1IP: nil)], F.at(10)),
            ([F.mx(at: F.at(60))], F.at(70)),
        ])
        #expect(late[1].events.isEmpty)
    }

    @Test func aDeviceThatGoesAwayIsKeptAWhileThenForgotten() {
        let other = F.mx(at: F.at(0), serial: "Q234-ABCD-0005")
        let outcomes = run([
            ([F.mx(at: F.at(0)), other], F.at(10)),
            // Gone within `forgetAfter` of its last report: kept, no event.
            ([F.mx(at: F.at(60))], F.at(70)),
            // Back with the same address: nothing.
            ([F.mx(at: F.at(120)), F.mx(at: F.at(120), serial: "Q234-ABCD-0005")], F.at(130)),
        ])
        #expect(outcomes.allSatisfy { $0.events.isEmpty })
        #expect(outcomes[1].removed.isEmpty)
        #expect(outcomes[1].snapshots["Q234-ABCD-0005/wan1"] != nil)

        // Back with a new address before it was forgotten: that is a change.
        let changed = tracker.track(
            previous: outcomes[1].snapshots, reports: [F.mx(at: F.at(600), serial: "Q234-ABCD-0005", wan1IP: "203.0.113.50")], now: F.at(610))
        #expect(changed.events.map(\.action) == ["uplink_public_ip_changed"])
        #expect(changed.events.map(\.serial) == ["Q234-ABCD-0005"])

        // Gone for `forgetAfter`: dropped without an event; coming back later is a first sight.
        let forgotten = tracker.track(previous: outcomes[1].snapshots, reports: [F.mx(at: F.at(3_600))], now: F.at(3_610))
        #expect(forgotten.events.isEmpty)
        #expect(forgotten.removed == ["Q234-ABCD-0005/cellular", "Q234-ABCD-0005/wan1"])
        #expect(forgotten.snapshots.keys.sorted() == ["\(F.mx)/cellular", "\(F.mx)/wan1"])
        let reappeared = tracker.track(
            previous: forgotten.snapshots, reports: [F.mx(at: F.at(3_660)), F.mx(at: F.at(3_660), serial: "Q234-ABCD-0005", wan1IP: "203.0.113.50")],
            now: F.at(3_670))
        #expect(reappeared.events.isEmpty)
        #expect(reappeared.snapshots["Q234-ABCD-0005/wan1"]?.publicIP == "203.0.113.50")
    }

    @Test func anEmptyListingForgetsNothingRecent() {
        let baseline = tracker.track(previous: [:], reports: [F.mx(at: F.at(0))], now: F.at(10)).snapshots
        let empty = tracker.track(previous: baseline, reports: [], now: F.at(70))
        #expect(empty.snapshots == baseline && empty.removed.isEmpty && empty.events.isEmpty)
    }

    @Test func aRepeatedSerialCountsOnceWithItsNewestReport() {
        let baseline = tracker.track(previous: [:], reports: [F.mx(at: F.at(0))], now: F.at(10)).snapshots
        let outcome = tracker.track(
            previous: baseline, reports: [F.mx(at: F.at(120), wan1IP: "203.0.113.77"), F.mx(at: F.at(60), wan1IP: "203.0.113.66")], now: F.at(130))
        #expect(outcome.events.map(\.publicIP) == ["203.0.113.77"])
        #expect(outcome.ignored.isEmpty)
    }

    @Test func staleAfterFollowsThePollInterval() {
        #expect(UplinkTracker(pollInterval: .seconds(60)).staleAfter == UplinkTracker.minimumStaleAfter)
        #expect(UplinkTracker(pollInterval: .seconds(600)).staleAfter == 1_800)
        #expect(UplinkTracker(pollInterval: .seconds(600)).forgetAfter == UplinkTracker.defaultForgetAfter)
    }
}
