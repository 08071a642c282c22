import Foundation
import Logging
import SentryCore

/// What travels from the event loops to the delivering task.
enum SyslogQueueItem: Sendable {
    case event(SecurityEvent)
    /// The flush timer: deliver whatever is batched.
    case flush
}

/// The hand-off between the event loops and the delivering task: parses, counts, enqueues without waiting.
///
/// Called on event-loop threads: everything here is bounded work (one capped message) and never suspends.
final class SyslogIngest: Sendable {
    let parser: SyslogParser
    let capacity: Int
    private let queue: AsyncStream<SyslogQueueItem>.Continuation
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let state = Locked(State())

    private struct State {
        var counters = SyslogCounters()
        /// Set while a run of drops lasts, so a flood logs once rather than once per message.
        var dropping = false
    }

    init(parser: SyslogParser, capacity: Int, queue: AsyncStream<SyslogQueueItem>.Continuation, now: @escaping @Sendable () -> Date, logger: Logger) {
        self.parser = parser
        self.capacity = capacity
        self.queue = queue
        self.now = now
        self.logger = logger
    }

    var counters: SyslogCounters { state.current.counters }

    func update(_ body: (inout SyslogCounters) -> Void) { state.withLock { body(&$0.counters) } }

    func accept(_ frame: SyslogFramer.Frame) {
        switch frame {
        case .message(let bytes): receive(bytes)
        case .oversized: refuse(oversized: true)
        case .truncated: refuse(oversized: false)
        }
    }

    /// One datagram or frame.
    func receive(_ bytes: some Collection<UInt8>) {
        let receivedAt = now()
        let message: SyslogMessage
        do {
            message = try parser.parse(bytes, receivedAt: receivedAt)
        } catch {
            if case .tooLong = error {
                refuse(oversized: true)
            } else {
                refuse(oversized: false)
                logger.debug("malformed syslog message", metadata: ["syslog.error": "\(error)"])
            }
            return
        }
        guard let event = MerakiSyslogEvents.event(from: message, receivedAt: receivedAt) else {
            update {
                $0.received += 1
                $0.parsed += 1
            }
            return
        }
        let result = queue.yield(.event(event))
        let (startedDropping, stoppedDropping, dropped) = state.withLock { state -> (Bool, Bool, Int) in
            state.counters.received += 1
            state.counters.parsed += 1
            state.counters.events += 1
            var enqueued = false
            switch result {
            case .enqueued(let remaining):
                state.counters.queueHighWater = max(state.counters.queueHighWater, capacity - remaining)
                enqueued = true
            case .dropped, .terminated:
                state.counters.dropped += 1
            @unknown default:
                state.counters.dropped += 1
            }
            let wasDropping = state.dropping
            state.dropping = !enqueued
            return (!wasDropping && !enqueued, wasDropping && enqueued, state.counters.dropped)
        }
        if startedDropping {
            logger.warning("syslog queue full; dropping events until the sink catches up", metadata: ["syslog.dropped": "\(dropped)"])
        } else if stoppedDropping {
            logger.info("syslog queue has room again", metadata: ["syslog.dropped": "\(dropped)"])
        }
    }

    /// Timer ticks share the queue with events; a tick dropped on a full queue is harmless (the batch is full too).
    func tick() { queue.yield(.flush) }

    func finish() { queue.finish() }

    private func refuse(oversized: Bool) {
        update {
            $0.received += 1
            $0.malformed += 1
            if oversized { $0.oversized += 1 }
        }
    }
}
