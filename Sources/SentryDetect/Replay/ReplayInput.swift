import CZlib
import Foundation

/// Why a file cannot be replayed, in one sentence a person can act on.
public enum ReplayInputError: Error, Equatable, CustomStringConvertible {
    case notFound(path: String)
    case isDirectory(path: String)
    case notReadable(path: String, reason: String)
    case empty(path: String, compressed: Bool)
    case readFailed(path: String, after: Int64, reason: String)
    case corruptGzip(path: String, near: Int64)
    case truncatedGzip(path: String)

    public var description: String {
        switch self {
        case .notFound(let path):
            "\(path) does not exist"
        case .isDirectory(let path):
            "\(path) is a directory: give one file to replay (JSON lines, a JSON document, a syslog file, or any of these gzipped)"
        case .notReadable(let path, let reason):
            "\(path) cannot be read: \(reason)"
        case .empty(let path, let compressed):
            compressed ? "\(path) holds nothing once decompressed: there is nothing to replay" : "\(path) is empty: there is nothing to replay"
        case .readFailed(let path, let after, let reason):
            "reading \(path) failed after \(ReplayText.count(Int(after))) bytes: \(reason)"
        case .corruptGzip(let path, let near):
            "\(path) is not valid gzip near byte \(ReplayText.count(Int(near))): what is above was read from the part before it"
        case .truncatedGzip(let path):
            "\(path) ends in the middle of its gzip data (cut short while copying?): what is above was read from the part it holds"
        }
    }

    /// The sentence for an `errno` from opening or reading.
    public static func reason(_ code: Int32) -> String {
        switch code {
        case EACCES, EPERM: return "permission denied"
        default:
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }
}

/// A file to replay, read in chunks and decompressed on the way when it is gzip (several members, as `cat a.gz
/// b.gz` makes, included): memory stays at two chunks whatever the file's size.
public final class ReplayInput {
    public let path: String
    /// The file's size, when it is a regular file (a pipe has none).
    public let size: Int64?
    public private(set) var isCompressed = false
    /// Bytes read from the file so far: compressed bytes for gzip, so that `bytesRead / size` is the progress.
    public private(set) var bytesRead: Int64 = 0
    /// Bytes handed out so far (decompressed).
    public private(set) var bytesOut: Int64 = 0

    private let descriptor: Int32
    private let raw: UnsafeMutableBufferPointer<UInt8>
    private var rawFilled = 0
    private var started = false
    private var inputEnded = false
    private var finished = false
    private var inflater: Inflater?

    public init(path: String, chunkSize: Int = 1 << 20) throws(ReplayInputError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: throw .notFound(path: path)
            case EISDIR: throw .isDirectory(path: path)
            default: throw .notReadable(path: path, reason: ReplayInputError.reason(code))
            }
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw .notReadable(path: path, reason: ReplayInputError.reason(code))
        }
        if status.st_mode & S_IFMT == S_IFDIR {
            close(descriptor)
            throw .isDirectory(path: path)
        }
        self.descriptor = descriptor
        size = status.st_mode & S_IFMT == S_IFREG ? Int64(status.st_size) : nil
        raw = .allocate(capacity: max(chunkSize, 16))
    }

    deinit {
        close(descriptor)
        raw.deallocate()
    }

    /// Calls `body` with the next piece of the content (valid during the call); false at the end.
    public func next(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Bool {
        if !started {
            started = true
            try fill()
            isCompressed = rawFilled >= 2 && raw[0] == 0x1f && raw[1] == 0x8b
            if isCompressed { inflater = Inflater(chunkSize: raw.count) }
        }
        let produced: Int
        if let inflater {
            produced = try inflate(inflater)
            if produced > 0 { try body(UnsafeBufferPointer(rebasing: inflater.out[0..<produced])) }
        } else {
            if rawFilled == 0, !inputEnded { try fill() }
            produced = rawFilled
            rawFilled = 0
            if produced > 0 { try body(UnsafeBufferPointer(rebasing: raw[0..<produced])) }
        }
        bytesOut += Int64(produced)
        if produced == 0, bytesOut == 0 { throw ReplayInputError.empty(path: path, compressed: isCompressed) }
        return produced > 0
    }

    /// Reads until the raw buffer is full or the file ends.
    private func fill() throws(ReplayInputError) {
        rawFilled = 0
        while rawFilled < raw.count {
            let count = read(descriptor, raw.baseAddress! + rawFilled, raw.count - rawFilled)
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EISDIR { throw .isDirectory(path: path) }
                throw .readFailed(path: path, after: bytesRead, reason: ReplayInputError.reason(code))
            }
            if count == 0 {
                inputEnded = true
                break
            }
            rawFilled += count
            bytesRead += Int64(count)
        }
    }

    private func inflate(_ inflater: Inflater) throws(ReplayInputError) -> Int {
        let stream = inflater.stream
        stream.pointee.next_out = inflater.out.baseAddress
        stream.pointee.avail_out = UInt32(inflater.out.count)
        if stream.pointee.avail_in == 0, rawFilled > 0 {
            // The first chunk, already read to look for the gzip magic.
            stream.pointee.next_in = raw.baseAddress
            stream.pointee.avail_in = UInt32(rawFilled)
            rawFilled = 0
        }
        while stream.pointee.avail_out > 0, !finished {
            if stream.pointee.avail_in == 0 {
                if inputEnded { break }
                try fill()
                guard rawFilled > 0 else { break }
                stream.pointee.next_in = raw.baseAddress
                stream.pointee.avail_in = UInt32(rawFilled)
                rawFilled = 0
            }
            if inflater.memberEnded {
                // Another member follows; anything else after the data (zero padding) is ignored, as gzip does.
                guard stream.pointee.next_in.pointee == 0x1f else {
                    finished = true
                    break
                }
                inflateReset(stream)
                inflater.memberEnded = false
            }
            let status = CZlib.inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_STREAM_END:
                inflater.memberEnded = true
            case Z_OK, Z_BUF_ERROR:
                continue
            default:
                throw .corruptGzip(path: path, near: max(0, bytesRead - Int64(stream.pointee.avail_in)))
            }
        }
        let produced = inflater.out.count - Int(stream.pointee.avail_out)
        if produced == 0, !inflater.memberEnded, !finished, inputEnded, stream.pointee.avail_in == 0 {
            finished = true
            throw .truncatedGzip(path: path)
        }
        return produced
    }

    /// zlib's state lives at a fixed address: zlib checks that the stream it is given is the one it set up.
    private final class Inflater {
        let stream: UnsafeMutablePointer<z_stream>
        let out: UnsafeMutableBufferPointer<UInt8>
        var memberEnded = false

        init(chunkSize: Int) {
            stream = .allocate(capacity: 1)
            stream.initialize(to: z_stream())
            out = .allocate(capacity: chunkSize)
            _ = sentry_inflate_init(stream)
        }

        deinit {
            inflateEnd(stream)
            stream.deinitialize(count: 1)
            stream.deallocate()
            out.deallocate()
        }
    }
}
