import Foundation
import SentryCore

/// What the Socket Mode client tells `/readyz` and the other sockets: how many are open, and whether it has
/// stopped for good (Socket Mode turned off, the app token refused).
public final class SocketModeStatus: Sendable {
    struct State {
        var open = 0
        var stopped: String?
    }

    private let state = Locked(State())

    public init() {}

    /// Sockets that have said hello and not yet closed.
    public var openSockets: Int { state.current.open }
    /// Why the client stopped reconnecting; nil while it runs.
    public var stoppedReason: String? { state.current.stopped }

    /// `record` sees the new count under the lock, so a gauge set from two sockets at once ends on the right value.
    func opened(record: (Int) -> Void) -> Int {
        state.withLock { state in
            state.open += 1
            record(state.open)
            return state.open
        }
    }

    func closed(record: (Int) -> Void) {
        state.withLock { state in
            state.open = max(0, state.open - 1)
            record(state.open)
        }
    }
    func stop(_ reason: String) { state.withLock { $0.stopped = $0.stopped ?? reason } }
}

/// Event ids seen over any socket in the last `ttl` (longer than Slack's 5-minute retry schedule): Slack may send
/// the same event on two sockets, or again after a late ack, and it is handled once.
actor SocketEventDeduplicator {
    let ttl: Duration
    private var seen: [String: ContinuousClock.Instant] = [:]
    private var lastPrune = ContinuousClock.now

    init(ttl: Duration = .seconds(600)) {
        self.ttl = ttl
    }

    /// True for the first delivery of `eventID`; a later one (on any socket) is a duplicate.
    func claim(_ eventID: String) -> Bool {
        let now = ContinuousClock.now
        if now - lastPrune > .seconds(30) {
            seen = seen.filter { now - $0.value < ttl }
            lastPrune = now
        }
        if let at = seen[eventID], now - at < ttl { return false }
        seen[eventID] = now
        return true
    }

    /// The handler failed and sent no ack: Slack's retry must be handled, not dropped as a duplicate.
    func release(_ eventID: String) {
        seen[eventID] = nil
    }
}
