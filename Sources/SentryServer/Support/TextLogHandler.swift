import Foundation
import Logging

/// `SENTRY_LOG_FORMAT=text`: swift-log's `StreamLogHandler` line layout, with every logged value escaped so
/// that one event is always exactly one line, whatever a client put in a value.
///
/// `2026-12-01T10:00:00+0000 notice sentry: request.id=… slack.action_id=ack [SentryServer] click`
///
/// Escaped, in the message, the label, the source and every metadata key and value (nested ones too):
/// the backslash (`\\`), newline (`\n`), carriage return (`\r`), tab (`\t`), other C0 controls, DEL, C1 controls,
/// and the Unicode line and paragraph separators (`\u{1B}`, `\u{85}`, `\u{2028}` …). Inside a nested value's
/// quotes, `"` is escaped as `\"`, as `StreamLogHandler` (Swift's `debugDescription`) does.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let write: @Sendable (String) -> Void

    /// `write` receives each line, newline included (standard error unless a test captures them).
    public init(
        label: String, metadataProvider: Logger.MetadataProvider? = nil,
        write: @escaping @Sendable (String) -> Void = TextLogHandler.standardError
    ) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    /// One `write(2)` per line, so lines from several threads do not interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided, uniquingKeysWith: { _, new in new }) }
        if let own = event.metadata { merged.merge(own, uniquingKeysWith: { _, new in new }) }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        write(
            Self.line(
                timestamp: Self.timestamp(), level: event.level, label: label, metadata: merged, source: event.source, message: "\(event.message)"))
    }

    /// `TIMESTAMP LEVEL LABEL: KEY=VALUE … [SOURCE] MESSAGE` and a newline; keys sorted, the metadata part left
    /// out when there is none, as `StreamLogHandler` writes it.
    static func line(timestamp: String, level: Logger.Level, label: String, metadata: Logger.Metadata, source: String, message: String) -> String {
        var line = timestamp + " " + level.rawValue
        if !label.isEmpty { line += " " + escaped(label) }
        line += ":"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " " + escaped(key) + "=" + text(value)
        }
        line += " [" + escaped(source) + "] " + escaped(message) + "\n"
        return line
    }

    /// A metadata value as `Logger.MetadataValue.description` shows it, escaped.
    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): escaped(string)
        case .stringConvertible(let convertible): escaped(convertible.description)
        case .array(let items): "[" + items.map(element).joined(separator: ", ") + "]"
        case .dictionary(let entries):
            entries.isEmpty
                ? "[:]"
                : "[" + entries.sorted(by: { $0.key < $1.key }).map { quoted($0.key) + ": " + element($0.value) }.joined(separator: ", ") + "]"
        }
    }

    /// Inside an array or a dictionary, strings are quoted.
    static func element(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): quoted(string)
        case .stringConvertible(let convertible): quoted(convertible.description)
        case .array, .dictionary: text(value)
        }
    }

    static func quoted(_ string: String) -> String { "\"" + escaped(string, quoted: true) + "\"" }

    /// The string with every character that could end a line, move the cursor or recolour a terminal written
    /// as an escape; the backslash too, so that an escape in the output always means one in the input.
    static func escaped(_ string: String, quoted: Bool = false) -> String {
        guard string.unicodeScalars.contains(where: { needsEscape($0, quoted: quoted) }) else { return string }
        var out = ""
        out.reserveCapacity(string.utf8.count + 16)
        for scalar in string.unicodeScalars {
            guard needsEscape(scalar, quoted: quoted) else {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return out
    }

    static func needsEscape(_ scalar: Unicode.Scalar, quoted: Bool) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x5C: true
        case 0x22: quoted
        default: false
        }
    }

    /// Local time to the second with the UTC offset, as `StreamLogHandler` writes it (`2026-12-01T10:00:00+0100`).
    static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
