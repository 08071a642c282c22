/// Splits a syslog TCP byte stream into messages (RFC 6587), holding at most one frame plus one read.
///
/// Each frame picks its own framing: `<digits> <non-digit>…` is octet counting (`123 <34>1 …`), anything
/// else is a newline-terminated line. Meraki lines relayed without `<PRI>` start with `1 1386…` or an epoch,
/// so a digit after the space means a line, not a count; an octet-counted frame whose content starts with a
/// digit is therefore read as a line (and will not parse). Frames larger than `maxFrameBytes` (a line may
/// add one CR before its LF) are skipped without being buffered and reported as `oversized`.
public struct SyslogFramer: Sendable {
    public enum Frame: Equatable, Sendable {
        case message([UInt8])
        /// A frame over the cap, skipped; `length` is its announced octet count (nil for an endless line).
        case oversized(length: Int?)
        /// The stream ended inside an octet-counted frame.
        case truncated(received: Int)
    }

    private enum State: Equatable, Sendable {
        case frameStart
        case line(scanned: Int)
        case octets(Int)
        case skipOctets(Int)
        case skipLine
    }

    public let maxFrameBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var state = State.frameStart

    public init(maxFrameBytes: Int = SyslogParser.defaultMaxLength) {
        self.maxFrameBytes = max(1, maxFrameBytes)
    }

    /// Bytes held waiting for the rest of a frame.
    public var bufferedBytes: Int { buffer.count - start }

    /// Takes the next bytes of the stream; returns the frames they complete, in order.
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [Frame] {
        var frames: [Frame] = []
        var incoming = bytes[...]
        while !incoming.isEmpty {
            // Skipping never buffers: a flood of oversized data costs no memory.
            switch state {
            case .skipOctets(let remaining):
                let n = min(remaining, incoming.count)
                incoming = incoming.dropFirst(n)
                state = remaining == n ? .frameStart : .skipOctets(remaining - n)
                continue
            case .skipLine:
                if let lf = incoming.firstIndex(of: Self.lf) {
                    incoming = incoming[incoming.index(after: lf)...]
                    state = .frameStart
                } else {
                    incoming = incoming[incoming.endIndex...]
                }
                continue
            default:
                break
            }
            // Buffer at most what the current frame can still use, so a huge read cannot inflate the buffer.
            let room = max(maxFrameBytes + 16 - bufferedBytes, 1)
            let chunk = incoming.prefix(room)
            buffer.append(contentsOf: chunk)
            incoming = incoming.dropFirst(chunk.count)
            drain(into: &frames)
            compact()
        }
        return frames
    }

    /// The stream ended: whatever is left is a last unterminated line, a cut-off frame, or nothing.
    public mutating func finish() -> [Frame] {
        defer {
            buffer = []
            start = 0
            state = .frameStart
        }
        switch state {
        case .octets:
            return [.truncated(received: bufferedBytes)]
        case .frameStart, .line:
            var rest = buffer[start...]
            while let last = rest.last, last == Self.cr || last == 0 { rest = rest.dropLast() }
            guard rest.contains(where: { $0 != Self.lf && $0 != Self.cr && $0 != 0 }) else { return [] }
            return [rest.count > maxFrameBytes ? .oversized(length: nil) : .message(Array(rest))]
        case .skipOctets, .skipLine:
            return []
        }
    }

    private mutating func drain(into frames: inout [Frame]) {
        while start < buffer.count {
            switch state {
            case .frameStart:
                let byte = buffer[start]
                if byte == Self.lf || byte == Self.cr || byte == 0 {
                    start += 1  // blank lines and stray terminators between frames
                    continue
                }
                switch octetCount() {
                case .needMore: return
                case .line: state = .line(scanned: start)
                case .count(let length, let headerBytes):
                    start += headerBytes
                    if length > maxFrameBytes {
                        frames.append(.oversized(length: length))
                        let available = min(length, buffer.count - start)
                        start += available
                        state = available == length ? .frameStart : .skipOctets(length - available)
                    } else {
                        state = .octets(length)
                    }
                }
            case .octets(let length):
                guard buffer.count - start >= length else { return }
                frames.append(.message(Array(buffer[start..<start + length])))
                start += length
                state = .frameStart
            case .line(let scanned):
                if let lf = buffer[scanned...].firstIndex(of: Self.lf) {
                    var end = lf
                    while end > start, buffer[end - 1] == Self.cr || buffer[end - 1] == 0 { end -= 1 }
                    // Also oversized when more bytes than the cap and one CR came before the LF: read in smaller
                    // pieces, such a line was already skipped below, and framing must not depend on read sizes.
                    let oversized = end - start > maxFrameBytes || lf - start > maxFrameBytes + 1
                    frames.append(oversized ? .oversized(length: nil) : .message(Array(buffer[start..<end])))
                    start = lf + 1
                    state = .frameStart
                } else if buffer.count - start > maxFrameBytes + 1 {
                    // +1 leaves room for the CR of a frame exactly at the cap.
                    frames.append(.oversized(length: nil))
                    start = buffer.count
                    state = .skipLine
                } else {
                    state = .line(scanned: buffer.count)
                    return
                }
            case .skipOctets, .skipLine:
                return
            }
        }
    }

    private enum Header {
        case needMore
        case line
        case count(Int, headerBytes: Int)
    }

    /// `MSG-LEN SP` followed by a non-digit: RFC 6587 §3.4.1 octet counting.
    private func octetCount() -> Header {
        var i = start
        var length = 0
        while i < buffer.count, Self.isDigit(buffer[i]) {
            if i - start >= 9 || (i == start && buffer[i] == UInt8(ascii: "0")) { return .line }
            length = length * 10 + Int(buffer[i] - UInt8(ascii: "0"))
            i += 1
        }
        guard i > start else { return .line }
        guard i + 1 < buffer.count else { return .needMore }
        guard buffer[i] == UInt8(ascii: " "), !Self.isDigit(buffer[i + 1]) else { return .line }
        return .count(length, headerBytes: i + 1 - start)
    }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 4 * maxFrameBytes)
            if case .line = state { state = .line(scanned: 0) }
            start = 0
        } else if start > 0 {
            buffer.removeFirst(start)
            if case .line(let scanned) = state { state = .line(scanned: scanned - start) }
            start = 0
        }
    }

    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")
    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}
