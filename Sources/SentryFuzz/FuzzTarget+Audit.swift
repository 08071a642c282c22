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
            canonical == full,
            "on \(entry.encoded().prefix(300)) the scanner gave \(String(describing: canonical)), the decoder \(String(describing: full))")
    }

    private static func scan(_ line: [UInt8]) -> SecurityEvent? {
        line.withUnsafeBufferPointer { AuditLineScanner.event($0) }
    }
}
