import Logging
import Synchronization

/// The id of the HTTP request being answered, as a task-local: every log line written while answering it
/// carries `request.id` (through the logging system's metadata provider), and the answer carries `X-Request-Id`.
public enum RequestID {
    @TaskLocal public static var current: String?

    public static let metadataProvider = Logger.MetadataProvider {
        guard let current else { return [:] }
        return ["request.id": .string(current)]
    }

    /// 16 hex digits, random-looking and never repeated within a process: a counter from a random start, mixed by
    /// SplitMix64's finaliser (a bijection, so distinct counts give distinct ids). Enough to find one request's
    /// lines among a day's, without a `getrandom` system call per request.
    public static func make() -> String {
        var x = start &+ counter.wrappingAdd(1, ordering: .relaxed).newValue &* 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        return String(unsafeUninitializedCapacity: 16) { buffer in
            for index in 0..<16 { buffer[index] = hexDigits[Int((x >> UInt64(60 - 4 * index)) & 0xF)] }
            return 16
        }
    }

    private static let start = UInt64.random(in: .min ... .max)
    private static let counter = Atomic<UInt64>(0)
    private static let hexDigits = Array("0123456789abcdef".utf8)
}
