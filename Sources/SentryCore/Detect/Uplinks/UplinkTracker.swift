import Foundation

/// Turns successive polls of appliance uplink statuses into uplink change events, keeping one `UplinkSnapshot`
/// per uplink (`serial/interface`) between polls.
///
/// Pure: no I/O, no clock (`now` is passed in). The same reports against the same snapshots always give the same
/// events with the same ids, so a poll repeated after a crash re-derives ids the seen-ids table already holds.
///
/// Decisions:
/// - First sight of an uplink or device fires nothing; it only records a baseline.
/// - A public IP that is missing or empty on either side is not a change: the last known public IP stays in the
///   snapshot, so `A → (none) → A` fires nothing and `A → (none) → B` fires once, `A → B`.
/// - A report older than `staleAfter` (or without a report time) fires nothing and does not overwrite what is
///   known: a change seen only in stale data fires once the device reports fresh data showing it. Uplinks seen for
///   the first time in a stale report get a baseline.
/// - A report older than what is already known (time going backwards) is ignored whole.
/// - An uplink missing from a poll keeps its snapshot until its last report time is `forgetAfter` old, then the
///   snapshot is dropped (no event). Coming back before that is compared with the kept snapshot (a public IP that
///   changed while gone fires); coming back later is a first sight again.
/// - The carrier is the first active wired uplink, else the active cellular one, else none; each snapshot remembers
///   whether its uplink was the last carrier, so a poll that catches the moment nothing is active changes nothing
///   and the next one compares with the carrier before it. Failover: the carrier moves from one wired uplink to
///   another (wan1 → wan2, and back: MX syslog's `failover to wanN`), or becomes cellular on a device with a wired
///   uplink (from wired, or from none when no carrier is remembered). Recovery: the carrier moves from cellular to
///   wired. A wired-only outage (wan1 → none → wan1) fires nothing.
/// - Public IP changes are reported for every uplink, active or not.
public struct UplinkTracker: Sendable, Equatable {
    /// The `SecurityEvent.action`s the tracker produces.
    public enum Change: String, Sendable, CaseIterable {
        case publicIPChanged = "uplink_public_ip_changed"
        case failover = "uplink_failover"
        case recovered = "uplink_recovered"
    }

    /// Why a device's report changed nothing.
    public enum IgnoreReason: Sendable, Equatable {
        /// Reported longer than `staleAfter` before `now`.
        case stale(lastReportedAt: Date)
        case noReportTime
        /// Older than the newest report already recorded for the device.
        case reportWentBackwards(lastReportedAt: Date, known: Date)
    }

    public struct Ignored: Sendable, Equatable {
        public var serial: String
        public var reason: IgnoreReason

        public init(serial: String, reason: IgnoreReason) {
            self.serial = serial
            self.reason = reason
        }
    }

    /// What one poll changes.
    public struct Outcome: Sendable, Equatable {
        /// Every snapshot to keep after this poll, by `UplinkSnapshot.key`.
        public var snapshots: [String: UplinkSnapshot]
        /// The snapshots that are new or differ from before (what to write), by key.
        public var changed: [UplinkSnapshot]
        /// Keys whose snapshots are dropped (what to delete), sorted.
        public var removed: [String]
        /// By serial; for one device, public IP changes by interface, then the carrier change.
        public var events: [SecurityEvent]
        public var ignored: [Ignored]

        public init(
            snapshots: [String: UplinkSnapshot], changed: [UplinkSnapshot] = [], removed: [String] = [], events: [SecurityEvent] = [],
            ignored: [Ignored] = []
        ) {
            self.snapshots = snapshots
            self.changed = changed
            self.removed = removed
            self.events = events
            self.ignored = ignored
        }
    }

    /// Meraki does not document how often appliances report; below this a short poll interval would make every
    /// report look stale.
    public static let minimumStaleAfter: TimeInterval = 300
    /// Thirty days: a device silent (or gone from the listing) for longer than a weekend still has its last known
    /// public IPs to compare with when it comes back.
    public static let defaultForgetAfter: TimeInterval = 30 * 86_400

    /// Seconds after which a report is too old to fire on.
    public var staleAfter: TimeInterval
    /// Seconds after its last report that the snapshot of an uplink missing from the polls is dropped.
    public var forgetAfter: TimeInterval

    public init(staleAfter: TimeInterval, forgetAfter: TimeInterval = UplinkTracker.defaultForgetAfter) {
        self.staleAfter = staleAfter
        self.forgetAfter = forgetAfter
    }

    /// Stale after three poll intervals, and never sooner than `minimumStaleAfter`.
    public init(pollInterval: Duration, forgetAfter: TimeInterval = UplinkTracker.defaultForgetAfter) {
        self.init(staleAfter: max(3 * pollInterval.inSeconds, Self.minimumStaleAfter), forgetAfter: forgetAfter)
    }

    public func track(previous: [String: UplinkSnapshot], reports: [UplinkReport], now: Date) -> Outcome {
        var memory = Memory(previous)
        var outcome = Outcome(snapshots: previous)
        var changes = Changes(recording: true)
        apply(reports, now: now, memory: &memory, events: &outcome.events, ignored: &outcome.ignored, changes: &changes)
        for snapshot in changes.changed { outcome.snapshots[snapshot.key] = snapshot }
        for key in changes.removed { outcome.snapshots[key] = nil }
        outcome.removed = changes.removed.sorted()
        outcome.changed = changes.changed.sorted { $0.key < $1.key }
        return outcome
    }

    /// The same as `track(previous:reports:now:)`, keeping the snapshots in `memory` between polls and updating
    /// them in place: the work is proportional to the devices in the poll (a replay of a year of polls calls this
    /// half a million times). Gives the events only.
    public func track(_ reports: [UplinkReport], now: Date, memory: inout Memory) -> [SecurityEvent] {
        var events: [SecurityEvent] = []
        var ignored: [Ignored] = []
        var changes = Changes(recording: false)
        apply(reports, now: now, memory: &memory, events: &events, ignored: &ignored, changes: &changes)
        return events
    }

    /// The snapshots kept between polls, by serial, each device's sorted by interface.
    public struct Memory: Sendable, Equatable {
        struct Device: Sendable, Equatable {
            var snapshots: [UplinkSnapshot]
            /// The last poll (`Memory.polls`) that reported the device.
            var poll: Int
        }

        var devices: [String: Device] = [:]
        var polls = 0

        public init() {}

        public init(_ snapshots: [String: UplinkSnapshot]) {
            for snapshot in snapshots.values { devices[snapshot.serial, default: Device(snapshots: [], poll: 0)].snapshots.append(snapshot) }
            for index in devices.indices { devices.values[index].snapshots.sort { $0.interface < $1.interface } }
        }

        /// Every snapshot, by `UplinkSnapshot.key`.
        public var snapshots: [String: UplinkSnapshot] {
            var all: [String: UplinkSnapshot] = [:]
            for device in devices.values { for snapshot in device.snapshots { all[snapshot.key] = snapshot } }
            return all
        }

        public var count: Int { devices.values.reduce(0) { $0 + $1.snapshots.count } }
    }

    /// What a poll wrote and dropped, when the caller keeps the snapshots elsewhere (a database).
    struct Changes {
        let recording: Bool
        var changed: [UplinkSnapshot] = []
        var removed: [String] = []

        init(recording: Bool) {
            self.recording = recording
        }
    }

    private func apply(
        _ reports: [UplinkReport], now: Date, memory: inout Memory, events: inout [SecurityEvent], ignored: inout [Ignored],
        changes: inout Changes
    ) {
        memory.polls += 1
        let poll = memory.polls
        var reported = 0

        /// Whether a snapshot of an uplink missing from this poll is old enough to drop.
        func forgotten(_ snapshot: UplinkSnapshot) -> Bool {
            if let at = snapshot.reportedAt, now.timeIntervalSince(at) < forgetAfter { return false }
            if changes.recording { changes.removed.append(snapshot.key) }
            return true
        }

        func keep(_ snapshot: UplinkSnapshot, old: UplinkSnapshot?) {
            if changes.recording, old != snapshot { changes.changed.append(snapshot) }
        }

        for report in Self.newestPerSerial(reports) {
            let slot = memory.devices.index(forKey: report.serial)
            let uplinks = Self.distinctInterfaces(report.uplinks)
            // Most polls of most devices: only the report time is new. Updated in place (the caller keeps no copy).
            if !changes.recording, let slot, let at = report.lastReportedAt, now.timeIntervalSince(at) <= staleAfter,
                Self.refresh(&memory.devices.values[slot], with: report, uplinks: uplinks, at: at, poll: poll)
            {
                reported += 1
                continue
            }
            let known = slot.map { memory.devices.values[$0].snapshots } ?? []
            var after: [UplinkSnapshot]

            func old(_ interface: String) -> UplinkSnapshot? { known.first { $0.interface == interface } }

            if let at = report.lastReportedAt, let newestKnown = Self.newest(known), at < newestKnown {
                ignored.append(Ignored(serial: report.serial, reason: .reportWentBackwards(lastReportedAt: at, known: newestKnown)))
                after = known
            } else if let at = report.lastReportedAt, now.timeIntervalSince(at) <= staleAfter {
                var current: [UplinkSnapshot] = []
                current.reserveCapacity(uplinks.count)
                for uplink in uplinks {
                    let old = old(uplink.interface)
                    if let old, let was = Self.address(old.publicIP), let new = Self.address(uplink.publicIP), was != new {
                        events.append(
                            event(
                                .publicIPChanged, report, at: at, interface: uplink.interface, previousPublicIP: was, publicIP: new,
                                detail: "\(report.serial) \(uplink.interface) public IP changed from \(was) to \(new)"))
                    }
                    current.append(Self.snapshot(report, uplink, old: old, reportedAt: at))
                }
                // While nothing is active the flags stay as they were: they remember the last carrier.
                if let carrier = Self.carrier(current).interface {
                    for index in current.indices { current[index].carried = current[index].interface == carrier }
                }
                if changes.recording { for snapshot in current { keep(snapshot, old: old(snapshot.interface)) } }
                if !known.isEmpty, let change = carrierChange(report, at: at, before: known, after: current) { events.append(change) }
                // Uplinks of the device missing from its report: kept until forgotten.
                after = current
                var missing = false
                for snapshot in known where !current.contains(where: { $0.interface == snapshot.interface }) && !forgotten(snapshot) {
                    after.append(snapshot)
                    missing = true
                }
                if missing { after.sort { $0.interface < $1.interface } }
            } else {
                let reason = report.lastReportedAt.map { IgnoreReason.stale(lastReportedAt: $0) } ?? .noReportTime
                ignored.append(Ignored(serial: report.serial, reason: reason))
                after = known
                var added = false
                for uplink in uplinks where old(uplink.interface) == nil {
                    let snapshot = Self.snapshot(report, uplink, old: nil, reportedAt: report.lastReportedAt)
                    keep(snapshot, old: nil)
                    after.append(snapshot)
                    added = true
                }
                if added { after.sort { $0.interface < $1.interface } }
            }

            if let slot {
                if after.isEmpty {
                    memory.devices.remove(at: slot)
                } else {
                    memory.devices.values[slot] = Memory.Device(snapshots: after, poll: poll)
                    reported += 1
                }
            } else if !after.isEmpty {
                memory.devices[report.serial] = Memory.Device(snapshots: after, poll: poll)
                reported += 1
            }
        }

        // Devices missing from the poll: only looked at when there are some.
        guard reported < memory.devices.count else { return }
        var gone: [String] = []
        for index in memory.devices.indices where memory.devices.values[index].poll != poll {
            let device = memory.devices.values[index]
            let kept = device.snapshots.filter { !forgotten($0) }
            if kept.isEmpty {
                gone.append(memory.devices.keys[index])
            } else if kept.count != device.snapshots.count {
                memory.devices.values[index].snapshots = kept
            }
        }
        for serial in gone { memory.devices[serial] = nil }
    }

    static func newest(_ snapshots: [UplinkSnapshot]) -> Date? {
        var newest: Date?
        for snapshot in snapshots { if let at = snapshot.reportedAt, newest.map({ at > $0 }) ?? true { newest = at } }
        return newest
    }

    // MARK: Carrier

    enum Carrier: Equatable {
        case wired(String)
        case cellular(String)
        case none

        var interface: String? {
            switch self {
            case .wired(let name), .cellular(let name): name
            case .none: nil
            }
        }

        init(interface: String) {
            self = UplinkTracker.isCellular(interface) ? .cellular(interface) : .wired(interface)
        }
    }

    /// `snapshots` sorted by interface.
    static func carrier(_ snapshots: [UplinkSnapshot]) -> Carrier {
        var cellular: String?
        for snapshot in snapshots where isActive(snapshot.status) {
            if !isCellular(snapshot.interface) { return .wired(snapshot.interface) }
            if cellular == nil { cellular = snapshot.interface }
        }
        return cellular.map(Carrier.cellular) ?? .none
    }

    /// The carrier before this report: the active uplink then, or, when none was, the last one that was.
    private static func lastCarrier(_ snapshots: [UplinkSnapshot]) -> Carrier {
        let now = carrier(snapshots)
        guard now == .none else { return now }
        return snapshots.first { $0.carried == true }.map { Carrier(interface: $0.interface) } ?? .none
    }

    /// `before` and `after` sorted by interface.
    private func carrierChange(_ report: UplinkReport, at: Date, before: [UplinkSnapshot], after: [UplinkSnapshot]) -> SecurityEvent? {
        func publicIP(_ snapshots: [UplinkSnapshot], _ interface: String) -> String? {
            Self.address(snapshots.first { $0.interface == interface }?.publicIP)
        }
        var hasWired: Bool { before.contains { !Self.isCellular($0.interface) } || after.contains { !Self.isCellular($0.interface) } }
        switch (Self.lastCarrier(before), Self.carrier(after)) {
        case (.wired(let wired), .cellular(let cellular)):
            return event(
                .failover, report, at: at, interface: cellular, previousPublicIP: publicIP(before, wired), publicIP: publicIP(after, cellular),
                detail: "\(report.serial) failed over from \(wired) to \(cellular)")
        case (.wired(let from), .wired(let to)) where from != to:
            // What MX syslog tells as `failover to wan2` (and `failover to wan1` on the way back).
            return event(
                .failover, report, at: at, interface: to, previousPublicIP: publicIP(before, from), publicIP: publicIP(after, to),
                detail: "\(report.serial) failed over from \(from) to \(to)")
        case (.none, .cellular(let cellular)) where hasWired:
            return event(
                .failover, report, at: at, interface: cellular, previousPublicIP: nil, publicIP: publicIP(after, cellular),
                detail: "\(report.serial) is on \(cellular); no uplink was active before")
        case (.cellular(let cellular), .wired(let wired)):
            return event(
                .recovered, report, at: at, interface: wired, previousPublicIP: publicIP(before, cellular), publicIP: publicIP(after, wired),
                detail: "\(report.serial) moved back from \(cellular) to \(wired)")
        default:
            return nil
        }
    }

    // MARK: Helpers

    /// `serial/interface/action/epoch/new public IP`: one id per change, the same on every re-derivation.
    public static func eventID(serial: String, interface: String, change: Change, reportedAt: Date, publicIP: String?) -> String {
        let epoch = Int(reportedAt.timeIntervalSince1970.rounded(.down))
        return "\(serial)/\(interface)/\(change.rawValue)/\(epoch)/\(publicIP ?? "-")"
    }

    private func event(
        _ change: Change, _ report: UplinkReport, at: Date, interface: String, previousPublicIP: String?, publicIP: String?, detail: String
    ) -> SecurityEvent {
        SecurityEvent(
            source: .merakiUplinks,
            id: Self.eventID(serial: report.serial, interface: interface, change: change, reportedAt: at, publicIP: publicIP),
            at: at, action: change.rawValue, networkID: report.networkID, serial: report.serial, interface: interface,
            previousPublicIP: previousPublicIP, publicIP: publicIP, detail: detail)
    }

    private static func snapshot(_ report: UplinkReport, _ uplink: UplinkReport.Uplink, old: UplinkSnapshot?, reportedAt: Date?) -> UplinkSnapshot {
        UplinkSnapshot(
            serial: report.serial, interface: uplink.interface, networkID: report.networkID ?? old?.networkID,
            status: uplink.status.map { trimmed($0, newlines: false) } ?? "", ip: address(uplink.ip),
            publicIP: address(uplink.publicIP) ?? address(old?.publicIP), reportedAt: reportedAt, carried: old?.carried)
    }

    static func key(_ serial: String, _ interface: String) -> String { "\(serial)/\(interface)" }

    /// One report per serial (a listing read across pages may repeat one): the newest.
    private static func newestPerSerial(_ reports: [UplinkReport]) -> [UplinkReport] {
        // A listing is usually one report per serial, in serial order already.
        var ordered = true
        for index in reports.indices {
            if reports[index].serial.isEmpty || (index > 0 && !(reports[index - 1].serial < reports[index].serial)) {
                ordered = false
                break
            }
        }
        if ordered { return reports }
        var chosen: [String: UplinkReport] = [:]
        for report in reports where !report.serial.isEmpty {
            if let kept = chosen[report.serial], (kept.lastReportedAt ?? .distantPast) > (report.lastReportedAt ?? .distantPast) { continue }
            chosen[report.serial] = report
        }
        return chosen.values.sorted { $0.serial < $1.serial }
    }

    /// The first entry of each interface, in interface order.
    private static func distinctInterfaces(_ uplinks: [UplinkReport.Uplink]) -> [UplinkReport.Uplink] {
        // Mostly already so (each interface once, in order): no copy.
        if uplinks.indices.allSatisfy({ !uplinks[$0].interface.isEmpty && ($0 == 0 || uplinks[$0 - 1].interface < uplinks[$0].interface) }) {
            return uplinks
        }
        // A device has a handful of uplinks: a linear search beats a set.
        var distinct: [UplinkReport.Uplink] = []
        distinct.reserveCapacity(uplinks.count)
        for uplink in uplinks where !uplink.interface.isEmpty && !distinct.contains(where: { $0.interface == uplink.interface }) {
            distinct.append(uplink)
        }
        if !distinct.indices.dropFirst().allSatisfy({ distinct[$0 - 1].interface < distinct[$0].interface }) {
            distinct.sort { $0.interface < $1.interface }
        }
        return distinct
    }
}
