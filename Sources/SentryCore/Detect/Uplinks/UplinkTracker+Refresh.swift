import Foundation

extension UplinkTracker {
    /// A fresh report of a known device that tells nothing new but its time (the same uplinks, with the same
    /// status, addresses and network): what `apply` would make of it, done in place. Such a report fires nothing: no
    /// public IP differs, and the carrier is the one before (the statuses are). False, with `device` untouched, when
    /// anything else differs or the report is older than what is known; then the full comparison runs.
    static func refresh(
        _ device: inout Memory.Device, with report: UplinkReport, uplinks: [UplinkReport.Uplink], at: Date, poll: Int
    ) -> Bool {
        // Read through `device` rather than a copy of its snapshots, so that the writes below need no copy of them.
        guard !device.snapshots.isEmpty, device.snapshots.count == uplinks.count else { return false }
        if let newestKnown = newest(device.snapshots), at < newestKnown { return false }
        for (index, uplink) in uplinks.enumerated() {
            // The fields `snapshot(_:_:old:reportedAt:)` would write, each as it would write it.
            guard uplink.interface == device.snapshots[index].interface,
                report.networkID == nil || report.networkID == device.snapshots[index].networkID,
                (uplink.status.map { trimmed($0, newlines: false) } ?? "") == device.snapshots[index].status,
                address(uplink.ip) == device.snapshots[index].ip,
                (address(uplink.publicIP) ?? address(device.snapshots[index].publicIP)) == device.snapshots[index].publicIP
            else { return false }
        }
        let carrier = carrier(device.snapshots).interface
        device.poll = poll
        for index in device.snapshots.indices {
            device.snapshots[index].reportedAt = at
            if let carrier { device.snapshots[index].carried = device.snapshots[index].interface == carrier }
        }
        return true
    }
}
