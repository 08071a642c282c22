import Foundation
import SentryCore

/// How every store writes the values it keeps as JSON text (alerts, effects, uplink snapshots): dates as seconds
/// since 1970, so the text means the same in SQLite, PostgreSQL and a copy between them.
public enum StoredJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(type, from: Data(text.utf8))
    }
}

extension AlertStatsRow {
    /// A row from the columns a SQL store selects out of the alert's JSON body (`subject` and `containments` as JSON text).
    public static func decoded(
        id: String, createdAt: Double, status: String, acknowledgedAt: Double?, closedAt: Double?, playbookID: String?, detection: String?,
        subject: String?, containments: String?
    ) throws -> AlertStatsRow {
        let subject = try subject.map { try StoredJSON.decode(Subject.self, $0) } ?? Subject()
        let containments = try containments.flatMap { $0 == "[]" ? nil : try StoredJSON.decode([Containment].self, $0) } ?? []
        return AlertStatsRow(
            alertID: id, createdAt: Date(timeIntervalSince1970: createdAt), acknowledgedAt: acknowledgedAt.map(Date.init(timeIntervalSince1970:)),
            closedAt: closedAt.map(Date.init(timeIntervalSince1970:)), status: AlertStatus(rawValue: status) ?? .open, playbookID: playbookID ?? "",
            detection: detection ?? "", subject: subject, containments: containments)
    }
}
