import SentryCore

extension FuzzTarget {
    /// The replay fast path against the full decoder: it may give up on a line (nil, counted as malformed), but
    /// an event it gives is the decoder's, and on the canonical form of any entry it gives exactly the decoder's.
    static let audit = FuzzTarget(name: "audit") { bytes in
        let fast = scan(bytes)
        // The scanner does not validate the parts it skips, so a line that is not JSON may still give an event.
        guard let entry = JSONValue.parse(bytes) else { return }
        let full = SlackAuditEntry.event(from: entry)
        // A repeated key is outside the contract: the decoder keeps the first, the scanner may see either or both.
        if fast != nil, !JSONKeys.repeatsAKey(bytes) {
            FuzzCheck.expect(fast == full, "scanner gave \(String(describing: fast)), the decoder \(String(describing: full))")
        }
        // Compact, sorted, one of each key: no room left for the scanner to be unsure.
        let canonical = scan(Array(entry.encoded().utf8))
        FuzzCheck.expect(
            canonical == full, "on \(entry.encoded().prefix(300)) the scanner gave \(String(describing: canonical)), the decoder \(String(describing: full))")
    }

    private static func scan(_ line: [UInt8]) -> SecurityEvent? {
        line.withUnsafeBufferPointer { AuditLineScanner.event($0) }
    }
}

/// Repeated keys in JSON text, which `JSONValue` folds silently (the first wins).
enum JSONKeys {
    /// Whether some object of a valid JSON text has a key twice (compared as decoded strings, as `JSONValue` does).
    static func repeatsAKey(_ bytes: [UInt8]) -> Bool {
        // One entry per open container: the keys seen so far, or nil for an array.
        var open: [Set<String>?] = []
        var expectingKey = false
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"):
                open.append([])
                expectingKey = true
            case UInt8(ascii: "["):
                open.append(nil)
                expectingKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = open.popLast()
            case UInt8(ascii: ","):
                expectingKey = open.last.map { $0 != nil } ?? false
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if expectingKey, var keys = open.last ?? nil, let key = JSONValue.parse(bytes[start...min(index, bytes.count - 1)])?.stringValue {
                    if !keys.insert(key).inserted { return true }
                    open[open.count - 1] = keys
                    expectingKey = false
                }
            default:
                break
            }
            index += 1
        }
        return false
    }
}
