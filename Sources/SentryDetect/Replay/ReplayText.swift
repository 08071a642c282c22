import Foundation
import SentryCore

/// The words and numbers of what `sentry detect replay` tells a person.
public enum ReplayText {
    /// `5000` → `5,000`, whatever the locale.
    public static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = value < 0 ? "-" : ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }

    /// `1536` → `1.5 KiB`.
    public static func bytes(_ value: Int64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024, unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) bytes" : "\(String(format: "%.1f", amount)) \(units[unit])"
    }

    /// What records of a source are called.
    public static func plural(_ source: SecurityEvent.Source) -> String {
        switch source {
        case .slackAudit: "Slack audit entries"
        case .merakiUplinks: "Meraki uplink statuses"
        case .syslog: "syslog messages"
        }
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0d || byte == 0x09 || byte == 0x0a }

    static func newlines(in bytes: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var count = 0
        var start = 0
        while start < bytes.count, let hit = memchr(base + start, 0x0a, bytes.count - start) {
            count += 1
            start = base.distance(to: hit.assumingMemoryBound(to: UInt8.self)) + 1
        }
        return count
    }
}
