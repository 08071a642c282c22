import Foundation
import SentryCore
import SentryTestSupport
import Testing

/// `track(_:now:memory:)`, which keeps its snapshots between polls and touches only the devices polled, against
/// `track(previous:reports:now:)`, which starts from the whole dictionary each time.
@Suite struct UplinkTrackerMemoryTests {
    typealias F = UplinkFixtures

    /// Random polls of a few devices: some missing, stale, going backwards, repeated, unordered, with uplinks
    /// appearing, vanishing, failing over and changing public IP. `steady`: most devices report their uplinks as
    /// they did the poll before (only the time moves), as real polls do.
    static func polls(seed: UInt64, count: Int, steady: Bool = false) -> [(reports: [UplinkReport], now: Date)] {
        var random = SplitMix64(seed: seed)
        let serials = ["Q1", "Q2", "Q3", "Q4", "Q5"]
        let statuses: [String?] = ["active", "active", "ready", "failed", nil, " Active ", "not connected"]
        let addresses: [String?] = ["203.0.113.1", "203.0.113.2", "198.51.100.7", nil, "", " 203.0.113.1 "]
        var clock = 0.0
        var polls: [(reports: [UplinkReport], now: Date)] = []
        var last: [String: [UplinkReport.Uplink]] = [:]
        for _ in 0..<count {
            clock += Double(Int.random(in: 0...400, using: &random))
            var reports: [UplinkReport] = []
            for serial in serials.shuffled(using: &random) where Int.random(in: 0..<5, using: &random) > 0 {
                let age = [0.0, 0, 0, 30, 500, -100, 5_000][Int.random(in: 0..<7, using: &random)]
                let at: Date? = Int.random(in: 0..<15, using: &random) == 0 ? nil : F.at(clock - age)
                var uplinks: [UplinkReport.Uplink] = []
                for interface in ["wan1", "wan2", "cellular", ""] where Int.random(in: 0..<4, using: &random) > 0 {
                    uplinks.append(
                        F.uplink(
                            interface, statuses.randomElement(using: &random)!, publicIP: addresses.randomElement(using: &random)!,
                            ip: addresses.randomElement(using: &random)!))
                }
                if Int.random(in: 0..<6, using: &random) == 0 { uplinks.shuffle(using: &random) }
                if steady, let before = last[serial], Int.random(in: 0..<10, using: &random) > 0 { uplinks = before }
                last[serial] = uplinks
                let report = UplinkReport(serial: serial, networkID: Bool.random(using: &random) ? "N1" : nil, lastReportedAt: at, uplinks: uplinks)
                reports.append(report)
                if Int.random(in: 0..<10, using: &random) == 0 { reports.append(report) }
            }
            if Bool.random(using: &random) { reports.sort { $0.serial < $1.serial } }
            polls.append((reports, F.at(clock)))
        }
        return polls
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64], [false, true])
    func keepingSnapshotsGivesTheSameEventsAndSnapshots(seed: UInt64, steady: Bool) {
        let tracker = UplinkTracker(staleAfter: 180, forgetAfter: 1_200)
        var snapshots: [String: UplinkSnapshot] = [:]
        var memory = UplinkTracker.Memory()
        var fired = 0
        for (number, poll) in Self.polls(seed: seed, count: 400, steady: steady).enumerated() {
            let outcome = tracker.track(previous: snapshots, reports: poll.reports, now: poll.now)
            let events = tracker.track(poll.reports, now: poll.now, memory: &memory)
            #expect(events == outcome.events, "poll \(number)")
            #expect(memory.snapshots == outcome.snapshots, "poll \(number)")
            #expect(memory.count == outcome.snapshots.count)
            snapshots = outcome.snapshots
            fired += events.count
        }
        // The scenario exercises the rules, not just baselines.
        #expect(fired > 10)
    }

    @Test func memoryFromSnapshotsHoldsThem() {
        let tracker = UplinkTracker(staleAfter: 180)
        let snapshots = tracker.track(previous: [:], reports: [F.mx(at: F.at(0)), F.mx(at: F.at(0), serial: "Q9")], now: F.at(10)).snapshots
        #expect(UplinkTracker.Memory(snapshots).snapshots == snapshots)
        #expect(UplinkTracker.Memory(snapshots).count == 4)
    }
}
