/// Eight bytes at a time through JSON strings: the scanners that read replayed files without building a tree
/// step over ordinary text a word at a time and look at single bytes only where one matters.
enum JSONBytes {
    /// How many of the eight bytes at `index` (which must leave eight to read) come before the first that may end
    /// or complicate a string (a quote, a backslash, a control character, a byte of a multi-byte character): 0 to 8.
    @inline(__always)
    static func ordinaryPrefix(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let word = UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self))
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        // A byte that is zero after the xor, or below 0x20, shows its high bit after the subtraction. Bytes above
        // the first such one may show it too (a borrow runs on), but the lowest one marked is exact.
        let found = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
        return ((found | word) & highs).trailingZeroBitCount >> 3
    }

    /// How many of the eight bytes at `index` (which must leave eight to read) come before the first a JSON string
    /// must escape (a quote, a backslash, a control character): 0 to 8. Bytes of multi-byte characters pass.
    @inline(__always)
    static func unescapedPrefix(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let word = UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self))
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        // As in `ordinaryPrefix`, without the high bits of the word itself: a byte from 0x80 up is never marked.
        let found = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
        return (found & 0x8080_8080_8080_8080).trailingZeroBitCount >> 3
    }
}
