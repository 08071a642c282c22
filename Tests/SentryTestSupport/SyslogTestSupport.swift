import Foundation
import Glibc
import Logging
import SentryCore
import SentryDetect
import SentryTesting

/// Inputs and tools shared by the syslog tests: the MX samples, loopback senders, a recording sink.
public enum SyslogFixtures {
    /// `../shared/specs/meraki/samples/mx-syslog.examples.txt`.
    public static let samplesURL = CoreFixtures.shared.appendingPathComponent("specs/meraki/samples/mx-syslog.examples.txt")

    /// Every syslog line of the sample file, annotations (`#`) and blank lines left out.
    public static func mxLines() throws -> [String] {
        let text = try String(contentsOf: samplesURL, encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).map(String.init).filter {
            !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty
        }
    }

    /// 2026-07-01T00:00:00Z.
    public static let now = Date(timeIntervalSince1970: 1_782_864_000)

    public static let logger = Logger(label: "syslog-test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// An `events` line in the wire format, with a distinct epoch per `n`.
    public static func failoverLine(_ n: Int, to interface: String = "wan2") -> String {
        "<134>1 \(1_386_337_435 + n).108107268 MX84 events failover to \(interface)"
    }
}

/// Captures what the listener delivers; optionally holds every delivery until `open()` (a slow sink).
public actor RecordingEventSink: EventSink {
    private(set) var batches: [[SecurityEvent]] = []
    private var gated: Bool
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(gated: Bool = false) { self.gated = gated }

    public var events: [SecurityEvent] { batches.flatMap { $0 } }

    public func deliver(_ events: [SecurityEvent]) async throws {
        if gated { await withCheckedContinuation { waiting.append($0) } }
        batches.append(events)
    }

    /// Lets held and future deliveries through.
    public func open() {
        gated = false
        let released = waiting
        waiting = []
        for continuation in released { continuation.resume() }
    }

    public var held: Int { waiting.count }
}

/// A listener running in a task, with its ports.
public struct SyslogHarness {
    public let listener: SyslogListener
    public let task: Task<Void, any Error>
    public let ports: SyslogListener.BoundPorts

    public static func start(
        udp: Bool = true, tcp: Bool = true, sink: any EventSink, maxMessageBytes: Int = 8 * 1024, queueCapacity: Int = 10_000,
        batchSize: Int = 100, flushInterval: Duration = .milliseconds(20), maxConnections: Int = 16
    ) async throws -> SyslogHarness {
        let configuration = SyslogListener.Configuration(
            udp: udp ? SyslogEndpoint(host: "127.0.0.1", port: 0) : nil, tcp: tcp ? SyslogEndpoint(host: "127.0.0.1", port: 0) : nil,
            maxMessageBytes: maxMessageBytes, queueCapacity: queueCapacity, batchSize: batchSize, flushInterval: flushInterval,
            maxConnections: maxConnections)
        // Receive times are fixed; the flush ticker runs in real time.
        let listener = SyslogListener(
            configuration: configuration, sink: sink, logger: SyslogFixtures.logger, clock: ManualClock(SyslogFixtures.now, waits: .real))
        let task = Task { try await listener.run() }
        let ports = try await listener.boundPorts()
        return SyslogHarness(listener: listener, task: task, ports: ports)
    }

    /// Cancels the task (the listener closes its sockets and flushes) and waits for it.
    public func stop() async throws {
        task.cancel()
        try await task.value
    }
}

public struct POSIXSocketError: Error, CustomStringConvertible {
    public var call: String
    public var code: Int32
    public var description: String { "\(call): \(String(cString: strerror(code)))" }
}

private func loopback(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
    return address
}

/// Datagrams to 127.0.0.1 from a plain socket, as an MX would send them.
public final class UDPSender {
    private let fd: Int32
    private var address: sockaddr_in

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXSocketError(call: "socket", code: errno) }
        address = loopback(port: port)
    }

    deinit { Glibc.close(fd) }

    /// Sends one datagram; a full socket buffer on our side is not an error for a flood.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool {
        let sent = bytes.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        return sent == bytes.count
    }

    @discardableResult
    public func send(_ line: String) -> Bool { send(Array(line.utf8)) }
}

/// A TCP connection to 127.0.0.1 from a plain socket; every `write` is one `send` (Nagle off).
public final class TCPSender {
    private var fd: Int32

    public init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXSocketError(call: "socket", code: errno) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw POSIXSocketError(call: "connect", code: code)
        }
    }

    deinit { close() }

    public func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw POSIXSocketError(call: "send", code: errno) }
            offset += sent
        }
    }

    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    public func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}

/// `MSG-LEN SP MSG`, RFC 6587 octet counting.
public func octetCounted(_ message: String) -> String { "\(message.utf8.count) \(message)" }

/// A sink that never answers until its task is cancelled, like a database that hangs.
public final class HangingEventSink: EventSink, Sendable {
    public init() {}

    public let calls = Locked(0)

    public func deliver(_ events: [SecurityEvent]) async throws {
        calls.withLock { $0 += 1 }
        // A clock nobody moves: this wait ends only when the task is cancelled.
        try await ManualClock().sleep(for: .seconds(3_600))
    }
}
