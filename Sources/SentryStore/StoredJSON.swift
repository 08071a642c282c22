import Foundation
import SentryCore

/// How every store writes the values it keeps as JSON text (alerts, effects, uplink snapshots): dates as seconds
/// since 1970, so the text means the same in SQLite, PostgreSQL and a copy between them. Written in one pass
/// (`StreamingJSONEncoder`: an alert is encoded on every transition, inside the writer's transaction).
public enum StoredJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try StreamingJSONEncoder.encode(value), as: UTF8.self)
    }

    /// An alert's body, written by `Alert.storedJSON()` (the same JSON, without `Codable`'s containers).
    public static func encode(_ alert: Alert) throws -> String {
        String(decoding: try alert.storedJSON(), as: UTF8.self)
    }

    /// An outbox entry's effect, written by `AlertEffect.storedJSON()`.
    public static func encode(_ effect: AlertEffect) throws -> String {
        String(decoding: try effect.storedJSON(), as: UTF8.self)
    }

    /// The decoder `decode` uses, for a caller decoding many values.
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(type, from: Data(text.utf8))
    }
}

extension AlertStatsRow {
    /// The alert table's columns that keep a row's fields besides `id`, `created_at` and `status` (migration
    /// "stats columns" in SQLite and PostgreSQL), written from the alert in the same statement as its body on
    /// every write; `containments_placed` is NULL only on a row no write has derived them for yet.
    public static let columns = [
        "acknowledged_at", "closed_at", "playbook_id", "detection", "subject_label", "containments_placed", "containments_approved",
        "containments_rejected", "containments_rolled_back",
    ]

    /// A row from the columns a SQL store selects.
    public static func fromColumns(
        id: String, createdAt: Double, status: String, acknowledgedAt: Double?, closedAt: Double?, playbookID: String?, detection: String?,
        subjectLabel: String?, containments: [Int?]
    ) -> AlertStatsRow {
        func count(_ index: Int) -> Int { index < containments.count ? containments[index] ?? 0 : 0 }
        return AlertStatsRow(
            alertID: id, createdAt: Date(timeIntervalSince1970: createdAt), acknowledgedAt: acknowledgedAt.map(Date.init(timeIntervalSince1970:)),
            closedAt: closedAt.map(Date.init(timeIntervalSince1970:)), status: AlertStatus(rawValue: status) ?? .open, playbookID: playbookID ?? "",
            detection: detection ?? "", subjectLabel: subjectLabel, containmentsPlaced: count(0), containmentsApproved: count(1),
            containmentsRejected: count(2), containmentsRolledBack: count(3))
    }
}
