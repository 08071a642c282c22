/// Eight bytes at a time through JSON strings: the scanners that read replayed files without building a tree
/// step over ordinary text a word at a time and look at single bytes only near one that matters.
enum JSONBytes {
    /// The eight bytes at `index` (which must leave eight to read), as one little-endian word.
    @inline(__always)
    static func word(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self))
    }

    /// Whether any of the word's bytes may end or complicate a string: a quote, a backslash, a control character
    /// or a byte of a multi-byte character. May answer true for a word without one (a borrow runs on past the first
    /// such byte); never false for a word with one.
    @inline(__always)
    static func mayEndString(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
        // A byte that is zero after the xor, or below 0x20: its high bit shows after the subtraction.
        let found = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
        return (found | word) & highs != 0
    }
}
