import Foundation

/// The bounded, predictable texts adapters make from what engines send: ids, titles, links, evidence.
public enum IntakeText {
    /// Longest rule slug in a detection id; with the longest prefix (`alertmanager.`) it stays under the
    /// webhook's 100.
    public static let maxSlugLength = 80
    public static let maxLinkLength = 3_000
    /// Evidence bounds: texts, items per array, keys per object, depth; and the whole, encoded.
    static let maxEvidenceText = 500
    static let maxEvidenceItems = 20
    static let maxEvidenceKeys = 40
    static let maxEvidenceDepth = 6
    static let maxEvidenceBytes = 6_000
    /// Bounds of `EngineDetection.fields`.
    static let maxFields = 200
    static let maxFieldValue = 1_000

    /// A rule name as a detection-id part: lower case, letters and digits kept; each run of other characters
    /// becomes `.` or `-` when it is exactly that, else `_`; none at either end. Longer than 80, or nothing left
    /// (a name in another script), it ends with a hash of the name so that different names stay different.
    public static func slug(_ name: String) -> String {
        var bytes: [UInt8] = []
        var run: [UInt8] = []
        func flush() {
            defer { run.removeAll() }
            guard !run.isEmpty, !bytes.isEmpty else { return }
            bytes.append(run == [UInt8(ascii: ".")] || run == [UInt8(ascii: "-")] ? run[0] : UInt8(ascii: "_"))
        }
        for byte in name.lowercased().utf8 {
            if SubjectValue.isAlphanumeric(byte) {
                flush()
                bytes.append(byte)
            } else {
                run.append(byte)
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if text.isEmpty { return "h" + shortHash(name, length: 12) }
        guard text.utf8.count > maxSlugLength else { return text }
        return String(decoding: bytes.prefix(maxSlugLength - 13), as: UTF8.self) + "-" + shortHash(name, length: 12)
    }

    /// `<prefix>.<slug of name>`.
    public static func detectionID(_ engine: Engine, _ name: String) -> String {
        engine.detectionPrefix + "." + slug(name)
    }

    /// `<engine id>:<part>:<part>`, at most `Detection.maxIDLength`: a longer one keeps its start and ends with a
    /// hash of the whole.
    public static func id(_ engine: Engine, _ parts: [String]) -> String {
        let whole = ([engine.id] + parts).joined(separator: ":")
        guard whole.unicodeScalars.count > Detection.maxIDLength else { return whole }
        let head = String(String.UnicodeScalarView(whole.unicodeScalars.prefix(Detection.maxIDLength - 33)))
        return head + ":" + shortHash(whole, length: 32)
    }

    /// Hex of SHA-256 of the text, cut to `length` digits.
    public static func shortHash(_ text: String, length: Int = 16) -> String {
        String(Crypto.hex(Crypto.sha256(Array(text.utf8))).prefix(length))
    }

    /// A title within `Detection.maxTitleLength`; nil when blank.
    static func title(_ text: String?) -> String? { bounded(text, Detection.maxTitleLength) }

    /// A summary within `Detection.maxSummaryLength`; nil when blank.
    static func summary(_ text: String?) -> String? { bounded(text, Detection.maxSummaryLength) }

    static func bounded(_ text: String?, _ limit: Int) -> String? {
        guard let trimmed = text?.trimmedOfWhitespace, !trimmed.isEmpty else { return nil }
        return BlockKitText.truncate(trimmed, limit)
    }

    /// An `http(s)` URL a Slack button may carry; nil for anything else (a `javascript:` link never gets a button).
    public static func link(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), text.utf8.count <= maxLinkLength else { return nil }
        let lower = text.lowercased()
        guard lower.hasPrefix("https://") || lower.hasPrefix("http://"),
            text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
            let url = URL(string: text), let host = url.host, !host.isEmpty
        else { return nil }
        return text
    }

    /// A value quoted for an error message, cut short.
    static func quoted(_ text: String) -> String { "\"" + BlockKitText.truncate(text, 60) + "\"" }

    /// A string or a number as text (`61`, `97.4`); nil for other values.
    static func scalar(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): return text.trimmedOfWhitespace
        case .number(let number):
            guard number.isFinite else { return nil }
            if let integer = JSONValue.exactInteger(number) { return String(integer) }
            return "\(number)"
        case .bool(let flag): return flag ? "true" : "false"
        default: return nil
        }
    }

    /// Evidence within bounds: long texts cut, long arrays and objects shortened (keys in order), deep nesting
    /// summarised; if the whole is still large, the same again with tighter bounds. Empty values are dropped.
    public static func evidence(_ value: JSONValue) -> JSONValue? {
        var trimmed = trim(value, text: maxEvidenceText, items: maxEvidenceItems, keys: maxEvidenceKeys, depth: maxEvidenceDepth)
        if let current = trimmed, current.encoded().utf8.count > maxEvidenceBytes {
            trimmed = trim(current, text: 120, items: 5, keys: 15, depth: 3)
        }
        if let current = trimmed, current.encoded().utf8.count > maxEvidenceBytes {
            trimmed = .string(BlockKitText.truncate(current.encoded(), maxEvidenceText))
        }
        return trimmed
    }

    static func trim(_ value: JSONValue, text: Int, items: Int, keys: Int, depth: Int) -> JSONValue? {
        switch value {
        case .null: return nil
        case .string(let string):
            let cut = string.trimmedOfWhitespace
            return cut.isEmpty ? nil : .string(BlockKitText.truncate(cut, text))
        case .number(let number): return number.isFinite ? value : nil
        case .bool: return value
        case .array(let array):
            guard depth > 0 else { return .string("[\(array.count) items]") }
            var out = array.prefix(items).compactMap { trim($0, text: text, items: items, keys: keys, depth: depth - 1) }
            if array.count > items { out.append(.string("… \(array.count - items) more")) }
            return out.isEmpty ? nil : .array(out)
        case .object(let object):
            guard depth > 0 else { return .string("{\(object.count) fields}") }
            var out: [String: JSONValue] = [:]
            let names = object.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for name in names.prefix(keys) {
                let key = BlockKitText.truncate(name, 100)
                if let item = trim(object[name]!, text: text, items: items, keys: keys, depth: depth - 1) { out[key] = item }
            }
            if names.count > keys { out["…"] = .string("\(names.count - keys) more fields") }
            return out.isEmpty ? nil : .object(out)
        }
    }

    /// `fields` bounded: at most 200 entries (by path order), values cut to 1,000 scalars, blanks dropped.
    static func fields(_ fields: [String: String]) -> [String: String] {
        var out: [String: String] = [:]
        for path in fields.keys.sorted().prefix(maxFields) {
            let value = fields[path]!.trimmedOfWhitespace
            if !value.isEmpty, path.utf8.count <= 200 { out[path] = BlockKitText.truncate(value, maxFieldValue) }
        }
        return out
    }
}
