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
    /// The subject's fields in `Subject.fieldNames` order, as a SQL store selects them.
    public static func subject(_ fields: [String?]) -> Subject {
        var subject = Subject()
        for (name, value) in zip(Subject.fieldNames, fields) { subject[field: name] = value }
        return subject
    }

    /// A row from the columns a SQL store selects out of the alert's JSON body (`containments` as JSON text, read
    /// only when there are some).
    public static func decoded(
        id: String, createdAt: Double, status: String, acknowledgedAt: Double?, closedAt: Double?, playbookID: String?, detection: String?,
        subject: Subject, containments: String?, decoder: JSONDecoder
    ) throws -> AlertStatsRow {
        let containments =
            try containments.flatMap { $0 == "[]" ? nil : try decoder.decode([Containment].self, from: Data($0.utf8)) } ?? []
        return AlertStatsRow(
            alertID: id, createdAt: Date(timeIntervalSince1970: createdAt), acknowledgedAt: acknowledgedAt.map(Date.init(timeIntervalSince1970:)),
            closedAt: closedAt.map(Date.init(timeIntervalSince1970:)), status: AlertStatus(rawValue: status) ?? .open, playbookID: playbookID ?? "",
            detection: detection ?? "", subject: subject, containments: containments)
    }
}
