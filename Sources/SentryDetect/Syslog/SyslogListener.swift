import Foundation
import Logging
import NIOCore
import NIOPosix
import SentryCore
import ServiceLifecycle

/// Receives syslog from Meraki MX appliances over UDP and/or TCP and delivers the uplink events it carries.
///
/// The event loops only frame, parse and count; events cross to a delivering task through a bounded queue,
/// which drops (and counts) rather than grows when the sink falls behind, so a flood costs no memory.
/// Delivery is in batches of `batchSize` or every `flushInterval`, whichever comes first. On shutdown the
/// sockets close first, then what is queued is delivered. `run()` may be called once.
public final class SyslogListener: Service, Sendable {
    public struct Configuration: Sendable, Equatable {
        public var udp: SyslogEndpoint?
        public var tcp: SyslogEndpoint?
        /// Longest message accepted, per datagram or TCP frame.
        public var maxMessageBytes: Int
        /// Events waiting for the sink, at most.
        public var queueCapacity: Int
        public var batchSize: Int
        public var flushInterval: Duration
        /// TCP connections open at once, at most; more are closed as they arrive.
        public var maxConnections: Int
        /// Once `run` is cancelled, how long queued events may still take to reach the sink (below the service
        /// group's 5 s cancellation bound).
        public var drainAfterCancellation: Duration

        public init(
            udp: SyslogEndpoint? = nil, tcp: SyslogEndpoint? = nil, maxMessageBytes: Int = SyslogParser.defaultMaxLength,
            queueCapacity: Int = 10_000, batchSize: Int = 100, flushInterval: Duration = .milliseconds(200), maxConnections: Int = 256,
            drainAfterCancellation: Duration = .seconds(3)
        ) {
            self.drainAfterCancellation = drainAfterCancellation
            self.udp = udp
            self.tcp = tcp
            self.maxMessageBytes = maxMessageBytes
            self.queueCapacity = queueCapacity
            self.batchSize = batchSize
            self.flushInterval = flushInterval
            self.maxConnections = maxConnections
        }
    }

    /// The ports actually bound (useful when the configuration asked for port 0).
    public struct BoundPorts: Equatable, Sendable {
        public var udp: Int?
        public var tcp: Int?

        public init(udp: Int? = nil, tcp: Int? = nil) {
            self.udp = udp
            self.tcp = tcp
        }
    }

    public let configuration: Configuration
    private let sink: any EventSink
    private let group: any EventLoopGroup
    private let logger: Logger
    /// Receive times, the flush ticker and the drain bound at shutdown.
    private let clock: any SentryClock
    private let ingest: SyslogIngest
    private let queue: AsyncStream<SyslogQueueItem>
    private let channels = Locked(Channels())
    private let binding = Locked(Binding.idle([]))

    private struct Channels {
        var listeners: [any Channel] = []
        var connections: [ObjectIdentifier: any Channel] = [:]
        var closing = false
        var stop: AsyncStream<Void>.Continuation?
    }

    private enum Binding {
        case idle([CheckedContinuation<BoundPorts, any Error>])
        case bound(BoundPorts)
        case failed(any Error)
    }

    public init(
        configuration: Configuration, sink: any EventSink, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, clock: any SentryClock = SystemClock()
    ) {
        var configuration = configuration
        configuration.maxMessageBytes = max(configuration.maxMessageBytes, 64)
        configuration.queueCapacity = max(configuration.queueCapacity, 1)
        configuration.batchSize = max(configuration.batchSize, 1)
        configuration.maxConnections = max(configuration.maxConnections, 1)
        self.configuration = configuration
        self.sink = sink
        self.group = eventLoopGroup
        self.logger = logger
        self.clock = clock
        let (queue, continuation) = AsyncStream.makeStream(
            of: SyslogQueueItem.self, bufferingPolicy: .bufferingOldest(configuration.queueCapacity))
        self.queue = queue
        self.ingest = SyslogIngest(
            parser: SyslogParser(maxLength: configuration.maxMessageBytes), capacity: configuration.queueCapacity,
            queue: continuation, now: { clock.now() }, logger: logger)
    }

    /// A snapshot of the counters.
    public var counters: SyslogCounters { ingest.counters }

    /// Waits until `run()` has bound its sockets; throws what binding threw.
    public func boundPorts() async throws -> BoundPorts {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<BoundPorts, any Error>? = binding.withLock { binding in
                switch binding {
                case .idle(var waiting):
                    waiting.append(continuation)
                    binding = .idle(waiting)
                    return nil
                case .bound(let ports): return .success(ports)
                case .failed(let error): return .failure(error)
                }
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    public func run() async throws {
        let (stopped, stop) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let first = channels.withLock { channels -> Bool in
            guard channels.stop == nil, !channels.closing else { return false }
            channels.stop = stop
            return true
        }
        guard first else { throw SyslogListenerError.alreadyRunning }

        let ports: BoundPorts
        do {
            ports = try await bind()
        } catch {
            close()
            settleBinding(.failure(error))
            ingest.finish()
            throw error
        }
        settleBinding(.success(ports))
        logger.info(
            "syslog listener started",
            metadata: ["syslog.udp": "\(ports.udp.map(String.init) ?? "off")", "syslog.tcp": "\(ports.tcp.map(String.init) ?? "off")"])

        // Unstructured, so that delivering what is queued survives the cancellation of `run()`.
        let delivery = Task { await self.deliverQueued() }
        let ticker = Task { [ingest, clock, interval = configuration.flushInterval] in
            while !Task.isCancelled {
                try? await clock.sleep(for: interval)
                ingest.tick()
            }
        }

        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                for await _ in stopped { break }
            } onGracefulShutdown: {
                self.close()
            }
        } onCancel: {
            self.close()
        }
        let unexpected = !channels.current.closing
        close()
        for channel in channels.withLock({ $0.listeners + Array($0.connections.values) }) {
            try? await channel.closeFuture.get()
        }
        ticker.cancel()
        ingest.finish()
        // Cancelled (the service group's shutdown bound passed, or a test stopped it): what is queued still gets
        // `drainAfterCancellation` to reach the sink, then the rest is given up, so stopping stays bounded.
        let deadline = Locked<Task<Void, Never>?>(nil)
        await withTaskCancellationHandler {
            await delivery.value
        } onCancel: { [clock, drain = configuration.drainAfterCancellation] in
            deadline.withLock {
                $0 = Task {
                    try? await clock.sleep(for: drain)
                    delivery.cancel()
                }
            }
        }
        deadline.current?.cancel()
        let counters = ingest.counters
        let undelivered = counters.events - counters.dropped - counters.delivered - counters.deliveryFailures
        if undelivered > 0 {
            logger.warning("syslog events given up at shutdown", metadata: ["syslog.undelivered": "\(undelivered)"])
        }
        logger.info(
            "syslog listener stopped",
            metadata: [
                "syslog.received": "\(counters.received)", "syslog.events": "\(counters.events)",
                "syslog.dropped": "\(counters.dropped)", "syslog.malformed": "\(counters.malformed)",
            ])
        if unexpected { throw SyslogListenerError.socketClosed }
    }

    // MARK: - Sockets

    private func bind() async throws -> BoundPorts {
        var ports = BoundPorts()
        if let endpoint = configuration.udp {
            let channel = try await bindUDP(endpoint)
            ports.udp = channel.localAddress?.port
        }
        if let endpoint = configuration.tcp {
            let channel = try await bindTCP(endpoint)
            ports.tcp = channel.localAddress?.port
        }
        return ports
    }

    private func bindUDP(_ endpoint: SyslogEndpoint) async throws -> any Channel {
        let ingest = ingest
        // No SO_REUSEADDR: on Linux it would let a second process share the port and silently split the traffic.
        let bootstrap = DatagramBootstrap(group: group)
            // One byte over the cap: a longer datagram arrives cut there and is counted as oversized.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: configuration.maxMessageBytes + 1))
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SyslogDatagramHandler(ingest: ingest))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: endpoint.host, port: endpoint.port).get()
        } catch {
            throw SyslogListenerError.bindFailed(transport: "udp", endpoint: endpoint, reason: "\(error)")
        }
        register(listener: channel)
        return channel
    }

    private func bindTCP(_ endpoint: SyslogEndpoint) async throws -> any Channel {
        let ingest = ingest
        let maxFrameBytes = configuration.maxMessageBytes
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelInitializer { [weak self] channel in
                guard let self, self.admit(channel) else {
                    ingest.update { $0.connectionsRejected += 1 }
                    channel.close(promise: nil)
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SyslogStreamHandler(ingest: ingest, maxFrameBytes: maxFrameBytes))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: endpoint.host, port: endpoint.port).get()
        } catch {
            throw SyslogListenerError.bindFailed(transport: "tcp", endpoint: endpoint, reason: "\(error)")
        }
        register(listener: channel)
        return channel
    }

    /// A listening socket that closes on its own (not through `close()`) stops the listener.
    private func register(listener channel: any Channel) {
        let closing = channels.withLock { channels -> Bool in
            channels.listeners.append(channel)
            return channels.closing
        }
        if closing { channel.close(promise: nil) }
        channel.closeFuture.whenComplete { [channels] _ in
            _ = channels.withLock { $0.stop?.yield() }
        }
    }

    private func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = channels.withLock { channels -> Bool in
            guard !channels.closing, channels.connections.count < configuration.maxConnections else { return false }
            channels.connections[id] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [channels] _ in
                _ = channels.withLock { $0.connections.removeValue(forKey: id) }
            }
        }
        return admitted
    }

    /// Closes every socket; what they had already framed still reaches the queue.
    private func close() {
        let open = channels.withLock { channels -> [any Channel] in
            channels.closing = true
            channels.stop?.yield()
            return channels.listeners + Array(channels.connections.values)
        }
        for channel in open { channel.close(promise: nil) }
    }

    private func settleBinding(_ result: Result<BoundPorts, any Error>) {
        let waiting = binding.withLock { binding -> [CheckedContinuation<BoundPorts, any Error>] in
            guard case .idle(let waiting) = binding else { return [] }
            switch result {
            case .success(let ports): binding = .bound(ports)
            case .failure(let error): binding = .failed(error)
            }
            return waiting
        }
        for continuation in waiting { continuation.resume(with: result) }
    }

    // MARK: - Delivery

    private func deliverQueued() async {
        let batchSize = configuration.batchSize
        var batch: [SecurityEvent] = []
        batch.reserveCapacity(batchSize)
        for await item in queue {
            // Cancelled and out of drain time: what is still queued is given up (and counted as such), not tried.
            if Task.isCancelled { break }
            switch item {
            case .event(let event):
                batch.append(event)
                if batch.count >= batchSize { await deliver(&batch) }
            case .flush:
                if !batch.isEmpty { await deliver(&batch) }
            }
        }
        if !batch.isEmpty && !Task.isCancelled { await deliver(&batch) }
    }

    private func deliver(_ batch: inout [SecurityEvent]) async {
        let events = batch
        batch.removeAll(keepingCapacity: true)
        do {
            try await sink.deliver(events)
            ingest.update { $0.delivered += events.count }
        } catch is CancellationError {
            // Given up at shutdown: counted as undelivered when the listener stops.
        } catch {
            ingest.update { $0.deliveryFailures += events.count }
            logger.error("syslog events not delivered", metadata: ["syslog.events": "\(events.count)", "error": "\(error)"])
        }
    }
}

/// Why the syslog listener could not start or stopped on its own.
public enum SyslogListenerError: Error, Equatable, Sendable {
    case bindFailed(transport: String, endpoint: SyslogEndpoint, reason: String)
    /// `run()` was called a second time.
    case alreadyRunning
    /// A listening socket closed without a shutdown having been asked for.
    case socketClosed
}
