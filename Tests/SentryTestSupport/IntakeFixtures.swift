import Foundation

@testable import SentryCore

/// The engine samples of `../shared/specs/engines` and what the intake tests share.
public enum IntakeFixtures {
    public static let folder = "specs/engines"

    /// Every sample file, as `engine/file.json`, sorted.
    public static func sampleFiles() throws -> [String] {
        let root = CoreFixtures.shared.appendingPathComponent(folder)
        var files: [String] = []
        for engine in try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() {
            var isDirectory: ObjCBool = false
            let path = root.appendingPathComponent(engine).path
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for file in try FileManager.default.contentsOfDirectory(atPath: path).sorted() where file.hasSuffix(".json") {
                files.append("\(engine)/\(file)")
            }
        }
        return files
    }

    public static func body(_ sample: String) throws -> [UInt8] {
        try CoreFixtures.sharedBody("\(folder)/\(sample)")
    }

    /// The adapter of a sample's folder (folders are named for the hook).
    public static func adapter(_ sample: String) -> (any EngineAdapter.Type)? {
        EngineRegistry.adapter(id: String(sample.prefix { $0 != "/" }))
    }

    public static func decode(_ adapter: any EngineAdapter.Type, _ bytes: [UInt8]) -> Result<EngineIntake, EngineIntakeError> {
        do throws(EngineIntakeError) {
            return .success(try adapter.decode(bytes))
        } catch {
            return .failure(error)
        }
    }

    public static func error(_ adapter: any EngineAdapter.Type, _ text: String) -> EngineIntakeError? {
        if case .failure(let error) = decode(adapter, Array(text.utf8)) { return error }
        return nil
    }

    public static func date(_ text: String) -> Date { Timestamp.parseISO8601(text)! }

    /// A detection written back as a §4.4 webhook body and read again: nil when the webhook would refuse it.
    public static func throughWebhook(_ detection: Detection) -> Detection? {
        var subject: [String: JSONValue] = [:]
        for field in Subject.fieldNames { subject[field] = detection.subject[field: field].map(JSONValue.string) }
        var body: [String: JSONValue] = ["id": .string(detection.id), "detection": .string(detection.detection), "subject": .object(subject)]
        body["severity"] = detection.severity.map { .string($0.rawValue) }
        body["title"] = detection.title.map(JSONValue.string)
        body["summary"] = detection.summary.map(JSONValue.string)
        body["evidence"] = detection.evidence
        guard var again = try? Detection.decodeWebhook(Array(JSONValue.object(body).encoded().utf8)) else { return nil }
        again.occurredAt = detection.occurredAt
        again.link = detection.link
        return again
    }

    /// An intake as reviewable JSON, for the golden copies.
    public static func json(_ intake: EngineIntake) -> JSONValue {
        var object: [String: JSONValue] = ["engine": .string(intake.engine.id)]
        if let group = intake.group {
            object["group"] = [
                "key": .string(group.key), "receiver": group.receiver.map(JSONValue.string) ?? .null,
                "truncated_alerts": .number(Double(group.truncatedAlerts)),
            ]
        }
        object["detections"] = .array(
            intake.detections.map { item in
                var detection: [String: JSONValue] = [
                    "id": .string(item.detection.id), "detection": .string(item.detection.detection),
                    "engine_alert_id": .string(item.engineAlertID),
                ]
                var subject: [String: JSONValue] = [:]
                for field in Subject.fieldNames { subject[field] = item.detection.subject[field: field].map(JSONValue.string) }
                detection["subject"] = .object(subject)
                detection["severity"] = item.detection.severity.map { .string($0.rawValue) } ?? .null
                detection["title"] = item.detection.title.map(JSONValue.string) ?? .null
                detection["summary"] = item.detection.summary.map(JSONValue.string) ?? .null
                detection["link"] = item.detection.link.map(JSONValue.string) ?? .null
                detection["occurred_at"] = item.detection.occurredAt.map { .string(Timestamp.iso8601($0)) } ?? .null
                detection["evidence"] = item.detection.evidence ?? .null
                detection["fields"] = .object(item.fields.mapValues(JSONValue.string))
                if let resolved = item.resolved {
                    detection["resolved"] = [
                        "by": .string(resolved.by), "classification": resolved.classification.map(JSONValue.string) ?? .null,
                        "comment": resolved.comment.map(JSONValue.string) ?? .null,
                        "at": resolved.at.map { .string(Timestamp.iso8601($0)) } ?? .null,
                    ]
                } else {
                    detection["resolved"] = .null
                }
                return .object(detection)
            })
        return .object(object)
    }
}
