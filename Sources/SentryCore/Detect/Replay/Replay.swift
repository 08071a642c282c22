import Foundation

/// Reads a JSON-lines (or syslog) file in fixed-size chunks and hands each line to a closure: memory stays
/// flat whatever the file's size.
public struct LineReader {
    let handle: FileHandle
    let chunkSize: Int

    public init(handle: FileHandle, chunkSize: Int = 1 << 20) {
        self.handle = handle
        self.chunkSize = chunkSize
    }

    /// Calls `body` for each line (without its newline); a final line without a newline counts too.
    public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        var splitter = LineSplitter()
        while true {
            let data = try handle.read(upToCount: chunkSize) ?? Data()
            if data.isEmpty { break }
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                try splitter.feed(raw.bindMemory(to: UInt8.self), body)
            }
        }
        try splitter.finish(body)
    }
}

/// Cuts a stream of chunks into lines, carrying a line cut by a chunk's end over to the next chunk.
public struct LineSplitter {
    private var carry: [UInt8] = []

    public init() {}

    /// Calls `body` for each line the chunk completes (without its newline).
    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        // memchr finds newlines far faster than a byte loop.
        while start < bytes.count, let hit = memchr(base + start, 0x0a, bytes.count - start) {
            let index = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if carry.isEmpty {
                try body(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            } else {
                carry.append(contentsOf: bytes[start..<index])
                try carry.withUnsafeBufferPointer { try body($0) }
                carry.removeAll(keepingCapacity: true)
            }
            start = index + 1
        }
        if start < bytes.count { carry.append(contentsOf: bytes[start..<bytes.count]) }
    }

    /// The last line, when the stream did not end with a newline.
    public mutating func finish(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        if !carry.isEmpty { try carry.withUnsafeBufferPointer { try body($0) } }
        carry.removeAll()
    }
}

/// Recently seen ids, bounded: duplicates in audit exports sit close together, and the set must not grow with the
/// file. Ids are kept as 64-bit fingerprints (`fingerprint`); a collision among the last few hundred thousand ids is
/// vanishingly unlikely and would only drop one event from a replay.
///
/// Two generations, each an open-addressed table at most half full (a fingerprint is already a good hash, so no
/// `Hasher` runs per id): once the current one holds `capacity` ids it becomes the previous one, so the last
/// `capacity` to `2 × capacity` ids are remembered.
public struct RecentIDs {
    private var current: [UInt64]
    private var previous: [UInt64]
    private var count = 0
    /// Fingerprints of the batch being looked up (kept for its capacity).
    private var prints: [UInt64] = []
    private let mask: Int
    let capacity: Int

    public init(capacity: Int = 200_000) {
        self.capacity = max(1, capacity)
        var size = 16
        while size < 2 * self.capacity { size <<= 1 }
        mask = size - 1
        current = Array(repeating: 0, count: size)
        previous = current
    }

    static func fingerprint(_ id: String) -> UInt64 {
        // Native strings (all the replay makes) hand out their bytes in place.
        if let print = id.utf8.withContiguousStorageIfAvailable(fingerprint) { return print }
        return Array(id.utf8).withUnsafeBufferPointer(fingerprint)
    }

    /// Eight bytes at a time: each word is mixed in by a bijection of the state (an odd multiply and a shift-xor), so
    /// ids of one length differing in one word never collide, and the length is mixed in last. A byte at a time
    /// (FNV-1a) was a chain of 36 dependent multiplies per audit id.
    static func fingerprint(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ word: UInt64) {
            hash = (hash ^ word) &* multiplier
            hash ^= hash >> 32
        }
        guard let base = bytes.baseAddress else { return 0x51AF_D7ED_558C_CD1D }
        var index = 0
        while index + 8 <= bytes.count {
            mix(UInt64(littleEndian: UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)))
            index += 8
        }
        if index < bytes.count {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.count {
                word |= UInt64(base[index]) << shift
                shift += 8
                index += 1
            }
            mix(word)
        }
        // The length last, as a word of its own (xored into the first word, "10" met "00\0").
        mix(UInt64(bytes.count))
        hash = (hash ^ (hash >> 29)) &* 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 32
        // 0 marks a free slot.
        return hash == 0 ? 1 : hash
    }

    /// True when the id was not seen recently (and remembers it).
    public mutating func insert(_ id: String) -> Bool {
        insert(fingerprint: Self.fingerprint(id))
    }

    /// For each id in turn, whether it was not seen recently (remembering it), as `insert` one by one: looked up in
    /// one tight loop, the table reads of many ids (each a cache miss, the tables being megabytes) overlap.
    public mutating func insert(_ ids: [String]) -> [Bool] {
        let prints = ids.map(Self.fingerprint)
        return prints.map { insert(fingerprint: $0) }
    }

    /// The same for the ids of `events`, read in place, with the answers in `fresh` (emptied first): a replay's
    /// batches then build no array of ids, and the two buffers are reused from batch to batch.
    public mutating func insert(idsOf events: [SecurityEvent], into fresh: inout [Bool]) {
        fresh.removeAll(keepingCapacity: true)
        prints.removeAll(keepingCapacity: true)
        events.withUnsafeBufferPointer { events in
            guard let first = events.baseAddress else { return }
            for index in events.indices { prints.append((first + index).pointee.eventID.withUTF8(Self.fingerprint)) }
        }
        for print in prints { fresh.append(insert(fingerprint: print)) }
    }

    private mutating func insert(fingerprint print: UInt64) -> Bool {
        if Self.slot(of: print, in: previous, mask: mask).found { return false }
        let (slot, found) = Self.slot(of: print, in: current, mask: mask)
        if found { return false }
        current[slot] = print
        count += 1
        if count >= capacity {
            swap(&current, &previous)
            current.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            count = 0
        }
        return true
    }

    /// Where `print` is in `table`, or the free slot where it would go.
    private static func slot(of print: UInt64, in table: [UInt64], mask: Int) -> (index: Int, found: Bool) {
        // The high bits of a product are the well-mixed ones.
        var index = Int(truncatingIfNeeded: (print &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while true {
            let value = table[index]
            if value == print { return (index, true) }
            if value == 0 { return (index, false) }
            index = (index + 1) & mask
        }
    }
}
