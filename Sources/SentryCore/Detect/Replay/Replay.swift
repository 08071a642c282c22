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
/// file. Ids are kept as 64-bit FNV-1a fingerprints; a collision among the last few hundred thousand ids is
/// vanishingly unlikely and would only drop one event from a replay.
public struct RecentIDs {
    private var current = Set<UInt64>()
    private var previous = Set<UInt64>()
    let capacity: Int

    public init(capacity: Int = 200_000) {
        self.capacity = capacity
        current.reserveCapacity(capacity)
    }

    static func fingerprint(_ id: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// True when the id was not seen recently (and remembers it).
    public mutating func insert(_ id: String) -> Bool {
        let print = Self.fingerprint(id)
        if previous.contains(print) || !current.insert(print).inserted { return false }
        if current.count >= capacity {
            previous = current
            current = Set(minimumCapacity: capacity)
        }
        return true
    }
}
