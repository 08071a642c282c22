import NIOCore
import SentryCore

/// One syslog message per UDP datagram.
final class SyslogDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let ingest: SyslogIngest

    init(ingest: SyslogIngest) { self.ingest = ingest }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        envelope.data.withUnsafeReadableBytes { ingest.receive($0) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A UDP socket reports ICMP errors and the like here; none of them should stop the listener.
    }
}

/// RFC 6587 framing for one TCP connection; the connection's whole buffer is its `SyslogFramer`.
final class SyslogStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let ingest: SyslogIngest
    private var framer: SyslogFramer

    init(ingest: SyslogIngest, maxFrameBytes: Int) {
        self.ingest = ingest
        self.framer = SyslogFramer(maxFrameBytes: maxFrameBytes)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let frames = buffer.withUnsafeReadableBytes { framer.feed($0) }
        for frame in frames { ingest.accept(frame) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        for frame in framer.finish() { ingest.accept(frame) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
