import Foundation
import Logging
import SentryCore
import WSClient

/// One socket of a slot: whether it said hello, whether a successor replaces it, and the acks still being written
/// (it closes only once they are out).
final class SocketConnection: Sendable {
    struct State {
        var saidHello = false
        var replaced = false
        var fatal: String?
        var closeRequested = false
        var inFlight = 0
        var outbound: WebSocketOutboundWriter?
    }

    let slot: Int
    /// The socket this one replaces: closed once this one says hello.
    let predecessor: SocketConnection?
    private let state = Locked(State())

    init(slot: Int, predecessor: SocketConnection?) {
        self.slot = slot
        self.predecessor = predecessor
    }

    var saidHello: Bool { state.current.saidHello }
    var replaced: Bool { state.current.replaced }
    var fatal: String? { state.current.fatal }

    /// True the first time: only one successor per socket.
    func markReplaced() -> Bool {
        state.withLock { state in
            guard !state.replaced else { return false }
            state.replaced = true
            return true
        }
    }

    func attach(_ outbound: WebSocketOutboundWriter) { state.withLock { $0.outbound = outbound } }
    func helloReceived() { state.withLock { $0.saidHello = true } }
    func stop(_ reason: String) { state.withLock { $0.fatal = reason } }

    func begin() { state.withLock { $0.inFlight += 1 } }

    func end() {
        let close = state.withLock { state -> WebSocketOutboundWriter? in
            state.inFlight -= 1
            return state.closeRequested && state.inFlight == 0 ? state.outbound : nil
        }
        if let close { Self.close(close) }
    }

    /// Its successor is up: close as soon as the acks in flight are written.
    func requestClose() {
        let close = state.withLock { state -> WebSocketOutboundWriter? in
            state.closeRequested = true
            return state.inFlight == 0 ? state.outbound : nil
        }
        if let close { Self.close(close) }
    }

    private static func close(_ outbound: WebSocketOutboundWriter) {
        Task { try? await outbound.close(.normalClosure, reason: "replaced") }
    }
}

extension SocketModeClient {
    /// One socket from connect to close.
    func run(_ connection: SocketConnection, url: String, events: AsyncStream<SlotEvent>.Continuation) async {
        let configuration = WebSocketClientConfiguration(
            maxFrameSize: settings.maxMessageBytes, closeTimeout: settings.closeTimeout, autoPing: .enabled(timePeriod: settings.pingInterval))
        var socketLogger = logger
        socketLogger.logLevel = max(logger.logLevel, .notice)
        do {
            let closed = try await WebSocketClient.connect(url: url, configuration: configuration, logger: socketLogger) { inbound, outbound, _ in
                try await self.serve(connection, inbound: inbound, outbound: outbound, events: events)
            }
            if let closed, closed.closeCode != .normalClosure {
                logger.notice(
                    "socket mode connection closed by Slack", metadata: ["socket.slot": "\(connection.slot)", "socket.close": "\(closed.closeCode)"])
            }
        } catch {
            if !Task.isCancelled {
                logger.notice("socket mode connection failed", metadata: ["socket.slot": "\(connection.slot)", "error": "\(error)"])
            }
        }
        if connection.saidHello { status.closed(record: metrics.socketsOpen) }
    }

    /// Reads frames until the socket closes; every envelope is answered in its own task, so a slow handler
    /// never holds up the next ack.
    func serve(
        _ connection: SocketConnection, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        events: AsyncStream<SlotEvent>.Continuation
    ) async throws {
        connection.attach(outbound)
        try await withThrowingDiscardingTaskGroup { group in
            for try await message in inbound.messages(maxSize: settings.maxMessageBytes) {
                guard case .text(let text) = message else { continue }
                switch SocketModeFrame.decode(text) {
                case .hello(let reported, let lifetime):
                    connection.helloReceived()
                    let open = status.opened(record: metrics.socketsOpen)
                    logger.info(
                        "socket mode connected",
                        metadata: [
                            "socket.slot": "\(connection.slot)", "socket.num_connections": "\(reported ?? 0)",
                            "socket.lifetime_s": "\(lifetime ?? 0)",
                        ])
                    // During a refresh this process briefly holds one more than it keeps.
                    if let reported, reported > max(open, settings.connections + 1) {
                        logger.warning(
                            "Slack reports \(reported) Socket Mode connections for this app, this process holds \(open): another process (a forgotten sentry serve?) receives a share of the callbacks"
                        )
                    }
                    connection.predecessor?.requestClose()
                case .disconnect(let reason):
                    metrics.socketReconnect(reason: reason.isEmpty ? "disconnect" : String(reason.prefix(40)))
                    switch reason {
                    case "link_disabled":
                        connection.stop("Slack disabled Socket Mode for this app (link_disabled)")
                        return
                    case "warning", "refresh_requested":
                        logger.info("socket mode refresh", metadata: ["socket.slot": "\(connection.slot)", "socket.reason": "\(reason)"])
                        events.yield(.refresh(connection))
                    default:
                        logger.notice(
                            "socket mode disconnect", metadata: ["socket.slot": "\(connection.slot)", "socket.reason": "\(reason.prefix(40))"])
                    }
                case .envelope(let envelope):
                    let arrived = ContinuousClock.now
                    connection.begin()
                    group.addTask {
                        await self.deliver(envelope, arrived: arrived, outbound: outbound)
                        connection.end()
                    }
                case .unknown(let type):
                    logger.debug("socket mode frame ignored", metadata: ["socket.type": "\(type)"])
                }
            }
        }
    }
}
