import Foundation

/// How the tracker reads the text of a report: addresses and statuses without surrounding white space, statuses and
/// interface names in any case.
extension UplinkTracker {
    static func address(_ text: String?) -> String? {
        guard let text else { return nil }
        let clean = trimmed(text, newlines: true)
        return clean.isEmpty ? nil : clean
    }

    static func isActive(_ status: String?) -> Bool {
        guard let status else { return false }
        // The common spelling without a copy; anything else the long way.
        if status == "active" { return true }
        if let ascii = asciiLowercaseEquals(status, "active", prefix: false) { return ascii }
        return trimmed(status, newlines: false).lowercased() == "active"
    }

    /// For ASCII text without white space at its ends, whether it equals (or starts with) `word` (lowercase
    /// ASCII) in any case, without the copy `lowercased()` makes; nil for other text, to be compared the long way.
    static func asciiLowercaseEquals(_ text: String, _ word: StaticString, prefix: Bool) -> Bool? {
        var text = text
        // Read in place (small strings on the stack): the generic `UTF8View` walk was a tenth of an uplink replay.
        return text.withUTF8 { bytes -> Bool? in
            guard let first = bytes.first, let last = bytes.last, first > 0x20, last > 0x20 else { return nil }
            for byte in bytes where byte >= 0x80 { return nil }
            let count = word.utf8CodeUnitCount
            guard prefix ? bytes.count >= count : bytes.count == count else { return false }
            for offset in 0..<count {
                let byte = bytes[offset]
                let lower = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                guard lower == word.utf8Start[offset] else { return false }
            }
            return true
        }
    }

    /// Meraki names cellular uplinks `cellular`; every other interface (`wan1`, `wan2`, …) is wired.
    static func isCellular(_ interface: String) -> Bool {
        if let ascii = asciiLowercaseEquals(interface, "cellular", prefix: true) { return ascii }
        return interface.hasPrefix("cellular") || interface.lowercased().hasPrefix("cellular")
    }

    /// `text` without surrounding white space; Foundation's trimming only when an end is white space (it bridges
    /// through NSString, and was a third of an uplink replay).
    static func trimmed(_ text: String, newlines: Bool) -> String {
        var copy = text
        guard let (first, last) = copy.withUTF8({ bytes in bytes.first.map { ($0, bytes[bytes.count - 1]) } }) else { return text }
        func isSpace(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte >= 0x80 || (newlines && (byte == 0x0a || byte == 0x0d || byte == 0x0b || byte == 0x0c))
        }
        guard isSpace(first) || isSpace(last) else { return text }
        return text.trimmingCharacters(in: newlines ? .whitespacesAndNewlines : .whitespaces)
    }
}
