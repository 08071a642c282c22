/// Text lengths as Slack counts them.
///
/// Block Kit limits (a header's 150, a section's 3,000, a button's 75, …) are counted by Slack, and by slack_sdk's
/// validator, in Unicode scalars (code points). A Swift `Character` can hold many scalars ("e\u{301}" is two, a
/// family emoji is seven), so a text within 150 Characters can be refused as `invalid_blocks`. Slack documents
/// none of these limits in UTF-16 units, so scalars are the one measure here.
public enum BlockKitText {
    /// The length Slack checks a limit against.
    @inlinable public static func length(_ text: String) -> Int { text.unicodeScalars.count }

    /// Cuts `text` to at most `limit` scalars, on a grapheme boundary (never inside a combining sequence or an
    /// emoji), never inside an `&…;` escape, and ends it with "…" when anything was cut.
    public static func truncate(_ text: String, _ limit: Int) -> String {
        guard limit > 0 else { return "" }
        // A scalar is at least one UTF-8 byte, and the byte count is stored: most texts end here without a scan.
        guard text.utf8.count > limit, length(text) > limit else { return text }
        let budget = limit - 1  // the ellipsis is one scalar
        var used = 0
        var end = text.startIndex
        for index in text.indices {
            let scalars = text[index].unicodeScalars.count
            if used + scalars > budget { break }
            used += scalars
            end = text.index(after: index)
        }
        var cut = text[..<end]
        if let amp = cut.lastIndex(of: "&"), !cut[amp...].contains(";") { cut = cut[..<amp] }
        return cut + "…"
    }
}
