import Foundation

/// A plain TCP connection to a loopback server: to hold a request half-sent, or to send bytes no HTTP client
/// would (broken chunking, a short body), and read exactly what the server answers.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    /// nil when nothing listens on the port. Reads give up after `readTimeout`.
    init?(port: Int, readTimeout: Duration = .seconds(15)) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 {
            close(fd)
            return nil
        }
        let seconds = readTimeout.components.seconds
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int(readTimeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    func write(_ text: String) { write(Array(text.utf8)) }

    /// Half-closes: the server reads end of stream, and can still answer.
    func shutdownWrite() { _ = shutdown(fd, Int32(SHUT_WR)) }

    /// `readAll` on a thread of its own, so the blocking reads hold no thread of the shared pool.
    func answer() async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.readAll()) }
        }
    }

    /// What the server sends until it closes the connection, one whole response (head and `Content-Length`
    /// bytes of body) has arrived, or the read timeout passes.
    func readAll() -> String {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            data += buffer[0..<n]
            if Self.isWholeResponse(data) { break }
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// After an answer: true when the server closes the connection (end of stream) within the read timeout.
    func closedByPeer() async -> Bool {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var byte: UInt8 = 0
                continuation.resume(returning: recv(self.fd, &byte, 1, 0) == 0)
            }
        }
    }

    static func isWholeResponse(_ data: [UInt8]) -> Bool {
        let text = String(decoding: data, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return text[end.upperBound...].utf8.count >= length
    }

    /// The status code of an answer read with `readAll`, nil when none came.
    static func status(of answer: String) -> Int? {
        guard answer.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(answer.dropFirst(9).prefix(3))
    }
}
