import Foundation
import SentryCore
import SentryEngine
import SentryStore

/// Carries uplink moves to the alerts whose approved-only containments they concern.
public enum UplinkChangeRouting {
    /// What a collected event means for approved-only, when it names a network.
    public static func change(_ event: SecurityEvent) -> UplinkChange? {
        guard let network = event.networkID, !network.isEmpty, let kind = UplinkChange.kind(action: event.action, interface: event.interface) else {
            return nil
        }
        return UplinkChange(kind: kind, networkID: network, serial: event.serial, at: event.at, source: event.source.rawValue)
    }

    /// Applies the change to every alert holding a live approved-only containment of its network; returns the ids
    /// of those that restrict it (requested, being written or in place): a containment being rolled back, or one
    /// that failed, does not stop a new failover from getting rules of its own.
    @discardableResult
    public static func route(_ change: UplinkChange, engine: AlertEngine, now: Date) async throws -> [String] {
        let live = try await engine.store.liveContainments(kind: .approvedOnly, target: change.networkID)
        var done: Set<String> = []
        for holder in live where done.insert(holder.alertID).inserted {
            _ = try await engine.apply(.uplinkChanged(change), to: holder.alertID, now: now)
        }
        let restricting: Set<String> = [
            Containment.Status.awaitingApproval.rawValue, Containment.Status.executing.rawValue, Containment.Status.active.rawValue,
        ]
        return live.filter { restricting.contains($0.status) }.map(\.containmentID)
    }
}
