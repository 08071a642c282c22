import Logging

/// The id of the HTTP request being answered, as a task-local: every log line written while answering it
/// carries `request.id` (through the logging system's metadata provider), and the answer carries `X-Request-Id`.
public enum RequestID {
    @TaskLocal public static var current: String?

    public static let metadataProvider = Logger.MetadataProvider {
        guard let current else { return [:] }
        return ["request.id": .string(current)]
    }

    /// 16 hex digits, random: enough to find one request's lines among a day's.
    public static func make() -> String {
        let hex = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
