import SentryCore

extension FuzzTarget {
    /// The JSON reader and writer: whatever parses, written and read again, is the same value.
    static let json = FuzzTarget(name: "json") { bytes in
        let value = JSONValue.parse(bytes)
        // White space around a document changes nothing (after the byte-order mark, which must come first).
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let hasBOM = bytes.starts(with: bom)
        let padded = JSONValue.parse((hasBOM ? bom : []) + [UInt8(ascii: " ")] + bytes.dropFirst(hasBOM ? 3 : 0) + [UInt8(ascii: "\n")])
        FuzzCheck.expect(padded == value, "white space around the document changed it")
        guard let value else { return }
        let text = value.encoded()
        let again = JSONValue.parse(Array(text.utf8))
        FuzzCheck.expect(again == value, "parse(encoded()) differs from the value: \(text.prefix(200))")
        FuzzCheck.expect(again?.encoded() == text, "encoded() is not stable: \(text.prefix(200))")
    }
}
