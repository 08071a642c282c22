import Foundation

/// Puts records in time order with bounded memory, so a replay gives the same detections whatever order its file
/// is in: a concatenation of exports, a newest-first API dump, a shuffled file.
///
/// Records collect in memory up to `runBytes`; each full run is sorted and spilled to a temporary file, and
/// `drain` merges the runs. Ties in time are broken by the record's bytes, so the order (and what the rules see)
/// depends only on the set of records, never on where they stood in the file.
public final class ExternalSorter {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    let runBytes: Int
    let directory: String
    private var arena: [UInt8] = []
    private var entries: [(time: Double, offset: Int, length: Int)] = []
    /// Spilled runs, each open for reading and already unlinked: the files go with the process, however it ends
    /// (an error, Ctrl-C, a closed pipe), and never outlive it in the temporary folder.
    private var runs: [FileHandle] = []
    public private(set) var count = 0
    /// Sorted runs written to disk in all.
    public private(set) var runsWritten = 0

    public init(runBytes: Int = 64 << 20, directory: String = NSTemporaryDirectory()) {
        self.runBytes = max(1 << 10, runBytes)
        self.directory = directory
    }

    deinit {
        for handle in runs { try? handle.close() }
    }

    public func append(time: Double, _ bytes: UnsafeBufferPointer<UInt8>) throws {
        entries.append((time, arena.count, bytes.count))
        arena.append(contentsOf: bytes)
        count += 1
        if arena.count + entries.count * 24 >= runBytes { try spill() }
    }

    /// Calls `body` with every record, in order of time, then of bytes.
    public func drain(_ body: (Double, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        if runs.isEmpty {
            let order = sortedOrder()
            try arena.withUnsafeBufferPointer { all in
                for index in order {
                    let entry = entries[index]
                    try body(entry.time, UnsafeBufferPointer(rebasing: all[entry.offset..<(entry.offset + entry.length)]))
                }
            }
            clear()
            return
        }
        if !entries.isEmpty { try spill() }
        var readers = runs.map { RunReader(handle: $0) }
        // A small binary heap over the runs' heads.
        var heap: [Int] = []
        func less(_ a: Int, _ b: Int) -> Bool {
            let (x, y) = (readers[a], readers[b])
            if x.time != y.time { return x.time < y.time }
            return x.record.lexicographicallyPrecedes(y.record)
        }
        func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, less(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count, less(heap[right], heap[smallest]) { smallest = right }
                if smallest == parent { return }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        for index in readers.indices where try readers[index].advance() { heap.append(index) }
        for start in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(start) }
        while let top = heap.first {
            try readers[top].record.withUnsafeBufferPointer { try body(readers[top].time, $0) }
            if try readers[top].advance() {
                siftDown(0)
            } else {
                heap.swapAt(0, heap.count - 1)
                heap.removeLast()
                siftDown(0)
            }
        }
        for handle in runs { try? handle.close() }
        runs.removeAll()
    }

    private func sortedOrder() -> [Int] {
        arena.withUnsafeBufferPointer { all in
            Array(entries.indices).sorted { a, b in
                let (x, y) = (entries[a], entries[b])
                if x.time != y.time { return x.time < y.time }
                return all[x.offset..<(x.offset + x.length)].lexicographicallyPrecedes(all[y.offset..<(y.offset + y.length)])
            }
        }
    }

    private func clear() {
        arena.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
    }

    /// Writes the records in memory, sorted, as `time (8 bytes) length (4) bytes` to a new temporary file.
    private func spill() throws {
        let path = (directory as NSString).appendingPathComponent("sentry-replay-\(UUID().uuidString).run")
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path),
            let reader = FileHandle(forReadingAtPath: path)
        else {
            try? FileManager.default.removeItem(atPath: path)
            throw Failure(description: "cannot write a temporary file in \(directory) to sort the events (is the disk full or read-only?)")
        }
        try? FileManager.default.removeItem(atPath: path)
        runs.append(reader)
        runsWritten += 1
        defer { try? handle.close() }
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        let order = sortedOrder()
        for index in order {
            let entry = entries[index]
            withUnsafeBytes(of: entry.time.bitPattern.littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt32(entry.length).littleEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: arena[entry.offset..<(entry.offset + entry.length)])
            if out.count >= 1 << 20 {
                try handle.write(contentsOf: out)
                out.removeAll(keepingCapacity: true)
            }
        }
        if !out.isEmpty { try handle.write(contentsOf: out) }
        clear()
    }
}

/// Reads one spilled run back, a record at a time, through a buffer.
private struct RunReader {
    let handle: FileHandle
    var buffer: [UInt8] = []
    var position = 0
    var time = 0.0
    var record: [UInt8] = []

    init(handle: FileHandle) {
        self.handle = handle
    }

    /// Ensures `count` unread bytes are buffered; false at the end of the run.
    mutating func fill(_ count: Int) throws -> Bool {
        if buffer.count - position >= count { return true }
        buffer.removeFirst(position)
        position = 0
        while buffer.count < count {
            let data = try handle.read(upToCount: max(1 << 18, count - buffer.count)) ?? Data()
            if data.isEmpty { return false }
            buffer.append(contentsOf: data)
        }
        return true
    }

    /// Moves to the next record; false (and the file closed) at the end.
    mutating func advance() throws -> Bool {
        guard try fill(12) else { return false }
        var bits: UInt64 = 0
        var length: UInt32 = 0
        withUnsafeMutableBytes(of: &bits) { $0.copyBytes(from: buffer[position..<(position + 8)]) }
        withUnsafeMutableBytes(of: &length) { $0.copyBytes(from: buffer[(position + 8)..<(position + 12)]) }
        time = Double(bitPattern: UInt64(littleEndian: bits))
        let size = Int(UInt32(littleEndian: length))
        guard try fill(12 + size) else {
            throw ExternalSorter.Failure(description: "a temporary sort file ended early")
        }
        record = Array(buffer[(position + 12)..<(position + 12 + size)])
        position += 12 + size
        return true
    }
}
