/// Cuts JSON documents fed in arbitrary pieces into records without building a tree: the elements of a
/// top-level array (a Meraki API response), the `entries` of a top-level object (an Audit Logs API page), or a
/// top-level object that has no `entries` array (one pretty-printed entry). Several documents may follow each other.
///
/// Only brackets and strings are followed; each record's own syntax is left to whoever decodes it. Memory is one
/// record at most, and a record longer than `maxRecordBytes` is given up (reported as `.junk`).
public struct JSONRecordFramer {
    public enum Event {
        /// One record's bytes, valid only during the call.
        case record(UnsafeBufferPointer<UInt8>)
        /// A top-level document closed (a Meraki response is one poll).
        case documentEnded
        /// Bytes that are no record: text between documents, a bracket closing nothing, an oversized record, a
        /// document cut short by the end of the input.
        case junk
    }

    public let maxRecordBytes: Int

    private enum Top { case none, array, object, entriesDone }

    private var top = Top.none
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// The depth whose values are records: 1 in an array, 2 in an `entries` array, 0 for a whole object.
    private var recordDepth = -1
    private var inRecord = false
    /// A record that is a number or literal ends at the next delimiter rather than a bracket.
    private var scalarRecord = false
    private var oversized = false
    private var buffer: [UInt8] = []
    /// Keys of the top-level object, read to find `entries`.
    private var expectingKey = false
    private var readingKey = false
    private var key: [UInt8] = []
    private var lastKeyIsEntries = false
    private var junkPending = false

    public init(maxRecordBytes: Int = 64 << 20) {
        self.maxRecordBytes = maxRecordBytes
    }

    /// True inside a document: what comes next belongs to it.
    public var isOpen: Bool { depth > 0 || inString }

    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, _ handle: (Event) -> Void) {
        // Where the current record began in this piece; its earlier part, if any, is in `buffer`.
        var recordStart = inRecord ? 0 : -1
        var index = 0
        let count = bytes.count

        func end(at stop: Int) {
            // `stop` is one past the record's last byte.
            if oversized {
                handle(.junk)
            } else if buffer.isEmpty {
                handle(.record(UnsafeBufferPointer(rebasing: bytes[recordStart..<stop])))
            } else {
                buffer.append(contentsOf: bytes[recordStart..<stop])
                if buffer.count > maxRecordBytes { handle(.junk) } else { buffer.withUnsafeBufferPointer { handle(.record($0)) } }
            }
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            inRecord = false
            scalarRecord = false
            oversized = false
            recordStart = -1
        }

        func begin(at start: Int) {
            inRecord = true
            recordStart = start
        }

        while index < count {
            let c = bytes[index]
            if inString {
                if escaped {
                    escaped = false
                } else if c == 0x5c {
                    escaped = true
                } else if c == 0x22 {
                    inString = false
                    if readingKey {
                        readingKey = false
                        lastKeyIsEntries = key.elementsEqual("entries".utf8)
                    }
                } else if readingKey, key.count < 16 {
                    key.append(c)
                }
                index += 1
                continue
            }
            switch c {
            case 0x22:
                if depth == 0 {
                    flagJunk()
                } else {
                    if depth == recordDepth, !inRecord {
                        begin(at: index)
                        scalarRecord = true
                    }
                    inString = true
                    if depth == 1, top == .object, expectingKey {
                        expectingKey = false
                        readingKey = true
                        key.removeAll(keepingCapacity: true)
                    }
                }
            case 0x7b, 0x5b:  // { [
                if scalarRecord { end(at: index) }
                if depth == 0 {
                    reportJunk(handle)
                    if c == 0x5b {
                        top = .array
                        recordDepth = 1
                    } else {
                        top = .object
                        recordDepth = 0
                        expectingKey = true
                        lastKeyIsEntries = false
                        begin(at: index)
                    }
                } else if depth == 1, top == .object, c == 0x5b, lastKeyIsEntries {
                    // An Audit Logs page: drop what was kept of the object, its entries are the records.
                    inRecord = false
                    recordStart = -1
                    buffer.removeAll(keepingCapacity: true)
                    oversized = false
                    recordDepth = 2
                    top = .entriesDone
                } else if depth == recordDepth, !inRecord {
                    begin(at: index)
                }
                depth += 1
            case 0x7d, 0x5d:  // } ]
                if scalarRecord { end(at: index) }
                if depth == 0 {
                    flagJunk()
                    break
                }
                depth -= 1
                if inRecord, depth == recordDepth {
                    end(at: index + 1)
                } else if top == .entriesDone, depth == 1, recordDepth == 2 {
                    recordDepth = -1  // the rest of the page (response_metadata) is no record
                }
                if depth == 0 {
                    top = .none
                    recordDepth = -1
                    expectingKey = false
                    handle(.documentEnded)
                }
            case 0x2c:  // ,
                if scalarRecord { end(at: index) }
                if depth == 1, top == .object { expectingKey = true }
            case 0x20, 0x0a, 0x0d, 0x09:
                if scalarRecord { end(at: index) }
                if c == 0x0a, depth == 0 { reportJunk(handle) }
            default:
                if depth == 0 {
                    flagJunk()
                } else if depth == recordDepth, !inRecord {
                    begin(at: index)
                    scalarRecord = true
                }
            }
            index += 1
        }
        if inRecord, recordStart >= 0, !oversized {
            buffer.append(contentsOf: bytes[recordStart..<count])
            if buffer.count > maxRecordBytes {
                oversized = true
                buffer = []
            }
        }
    }

    /// The end of the input: a document still open was cut short.
    public mutating func finish(_ handle: (Event) -> Void) {
        reportJunk(handle)
        if isOpen { handle(.junk) }
        reset()
    }

    /// Forgets any document in progress.
    public mutating func reset() {
        self = JSONRecordFramer(maxRecordBytes: maxRecordBytes)
    }

    /// Junk is reported once per line of stray bytes, not per byte.
    private mutating func flagJunk() { junkPending = true }

    private mutating func reportJunk(_ handle: (Event) -> Void) {
        if junkPending {
            junkPending = false
            handle(.junk)
        }
    }
}
