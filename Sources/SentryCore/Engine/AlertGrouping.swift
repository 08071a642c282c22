import Foundation

/// Which open alert a new detection joins (DESIGN.md §4.4): the newest alert with the same group key that is
/// still open or acknowledged and whose grouping window has not closed. Pure, so every store groups alike.
public enum AlertGrouping {
    /// Statuses an alert can still take detections in.
    public static let groupable: Set<AlertStatus> = [.open, .acknowledged]

    /// The alert `detection` groups into among `candidates` (alerts a store found under its group key), or nil
    /// for a new alert.
    public static func target(for detection: Detection, among candidates: [Alert], now: Date) -> Alert? {
        let key = Alert.groupKey(detection: detection.detection, subject: detection.subject)
        return candidates
            .filter { $0.groupKey == key && groupable.contains($0.status) && $0.groupUntil > now }
            .max { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }
}
