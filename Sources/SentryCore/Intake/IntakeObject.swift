import Foundation

/// A JSON object of an engine's body with the path it was found at, so every error names its field
/// (`data.essentials.alertId`, `alerts[1].labels.alertname`).
///
/// `null` reads as absent, since engines send it for "not set" (`customProperties: null`, `search_name: null`).
public struct IntakeObject: Sendable {
    public let fields: [String: JSONValue]
    public let path: String

    public init(_ fields: [String: JSONValue], path: String) {
        self.fields = fields
        self.path = path
    }

    func path(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The value under `key`; nil when absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let value = fields[key], value != .null else { return nil }
        return value
    }

    /// A text that must be there and not be blank.
    func string(_ key: String) throws(EngineIntakeError) -> String {
        guard let text = try optionalString(key) else { throw .missing(path: path(key)) }
        return text
    }

    /// A text, trimmed; nil when absent, null or blank.
    func optionalString(_ key: String) throws(EngineIntakeError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw .wrongType(path: path(key), expected: "a string") }
        let trimmed = text.trimmedOfWhitespace
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The first of several keys that holds a text (`assignedTo`, else `userPrincipalName`).
    func firstString(_ keys: String...) throws(EngineIntakeError) -> String? {
        for key in keys { if let text = try optionalString(key) { return text } }
        return nil
    }

    func firstScalarText(_ keys: String...) throws(EngineIntakeError) -> String? {
        for key in keys { if let text = try optionalScalarText(key) { return text } }
        return nil
    }

    func firstDate(_ keys: String...) throws(EngineIntakeError) -> Date? {
        for key in keys { if let date = try optionalDate(key) { return date } }
        return nil
    }

    /// A text, or a number written as text (`incidentNumber`, Splunk counts); nil when absent.
    func optionalScalarText(_ key: String) throws(EngineIntakeError) -> String? {
        guard let value = value(key) else { return nil }
        if let text = IntakeText.scalar(value) { return text.isEmpty ? nil : text }
        throw .wrongType(path: path(key), expected: "a string or a number")
    }

    func optionalNumber(_ key: String) throws(EngineIntakeError) -> Double? {
        guard let value = value(key) else { return nil }
        guard case .number(let number) = value else { throw .wrongType(path: path(key), expected: "a number") }
        return number
    }

    func object(_ key: String) throws(EngineIntakeError) -> IntakeObject {
        guard let object = try optionalObject(key) else { throw .missing(path: path(key)) }
        return object
    }

    func optionalObject(_ key: String) throws(EngineIntakeError) -> IntakeObject? {
        guard let value = value(key) else { return nil }
        guard case .object(let fields) = value else { throw .wrongType(path: path(key), expected: "an object") }
        return IntakeObject(fields, path: path(key))
    }

    func optionalArray(_ key: String) throws(EngineIntakeError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let items) = value else { throw .wrongType(path: path(key), expected: "an array") }
        return items
    }

    /// An array of objects (`alerts`, `relatedEntities`); each error names the element (`alerts[2]`).
    func objects(_ key: String, required: Bool = false) throws(EngineIntakeError) -> [IntakeObject] {
        guard let items = try optionalArray(key) else {
            if required { throw .missing(path: path(key)) }
            return []
        }
        var objects: [IntakeObject] = []
        for (index, item) in items.enumerated() {
            guard case .object(let fields) = item else {
                throw .wrongType(path: "\(path(key))[\(index)]", expected: "an object")
            }
            objects.append(IntakeObject(fields, path: "\(path(key))[\(index)]"))
        }
        return objects
    }

    /// Texts of an array of strings (`tags`, `configurationItems`); an element of another type is an error.
    func strings(_ key: String) throws(EngineIntakeError) -> [String] {
        guard let items = try optionalArray(key) else { return [] }
        var texts: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item else {
                throw .wrongType(path: "\(path(key))[\(index)]", expected: "a string")
            }
            texts.append(text)
        }
        return texts
    }

    /// An object of texts (`labels`, `annotations`); a value of another type is an error that names it.
    func stringMap(_ key: String) throws(EngineIntakeError) -> [String: String] {
        guard let object = try optionalObject(key) else { return [:] }
        var map: [String: String] = [:]
        // In key order, so that of two bad values the same one is named every time.
        for name in object.fields.keys.sorted() {
            guard case .string(let text) = object.fields[name]! else {
                throw .wrongType(path: object.path(name), expected: "a string")
            }
            map[name] = text
        }
        return map
    }

    /// A time in RFC 3339; nil when absent or not a time (engines' times are informative, never required).
    func optionalDate(_ key: String) throws(EngineIntakeError) -> Date? {
        guard let text = try optionalString(key) else { return nil }
        return Timestamp.parseISO8601(text)
    }
}
