import Foundation

/// Which open alert a new detection joins (DESIGN.md §4.4): the newest alert with the same group key that is
/// still open or acknowledged and whose grouping window has not closed — or, first, one snoozed for it. Pure,
/// so every store groups alike.
public enum AlertGrouping {
    /// Statuses an alert can still take detections in.
    public static let groupable: Set<AlertStatus> = [.open, .acknowledged]

    /// The alert `detection` groups into among `candidates` (alerts a store found under its group key), or nil
    /// for a new alert.
    public static func target(for detection: Detection, among candidates: [Alert], now: Date) -> Alert? {
        let key = Alert.groupKey(detection: detection.detection, subject: detection.subject)
        let same = candidates.filter { $0.groupKey == key && groupable.contains($0.status) }
        // A snoozed alert keeps taking its detections past its window, so a snooze quiets the detection, not
        // one alert of it.
        if let snoozed = same.filter({ $0.snoozed(at: now) != nil }).max(by: { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }) {
            return snoozed
        }
        return same.filter { $0.groupUntil > now }.max { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }
}
