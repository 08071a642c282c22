import Foundation
import Logging
import SentryConnectors
import SentryCore
import ServiceLifecycle

/// Mints a fresh Socket Mode URL (`apps.connections.open` with the app-level token); one per connection.
public protocol SocketURLOpening: Sendable {
    func openConnection() async throws -> String
}

extension SlackClient: SocketURLOpening {}

/// Socket Mode's tunables; the defaults are `sentry serve`'s, tests shorten the times.
public struct SocketModeSettings: Sendable {
    /// Sockets kept open (`SLACK_SOCKET_CONNECTIONS`).
    public var connections: Int
    /// A handler still running this long after its envelope arrived gets a bare ack, and its answer follows
    /// through `response_url`: Slack wants the ack within 3 seconds.
    public var ackDeadline: Duration = .milliseconds(2_500)
    /// Slack ignores a Socket Mode response of 20 KB or more; larger answers go through `response_url`.
    public var maxAckBytes: Int = 20_000
    /// Inbound frames and messages: views and blocks easily pass WSClient's 16 KiB default.
    public var maxMessageBytes: Int = 4 << 20
    /// Client pings; a ping unanswered by the next one closes the socket, so a half-open link goes within two.
    public var pingInterval: Duration = .seconds(10)
    public var closeTimeout: Duration = .seconds(5)
    /// Reconnect backoff: doubling from `initialBackoff` up to `maxBackoff`, each wait jittered down by up to half.
    public var initialBackoff: Duration = .seconds(1)
    public var maxBackoff: Duration = .seconds(60)

    public init(connections: Int = 2) {
        self.connections = max(1, min(connections, 10))
    }

    /// The wait before attempt `failures + 1`, after `failures` consecutive failures (at least one).
    public func backoff(afterFailures failures: Int) -> Duration {
        let doubled = initialBackoff * Int(1 << min(max(failures - 1, 0), 20))
        let capped = min(doubled, maxBackoff)
        return capped * Double.random(in: 0.5...1.0)
    }
}

/// Slack's callbacks over outbound WebSockets (Socket Mode): keeps `connections` sockets open, each from a fresh
/// `apps.connections.open` URL, hands every envelope to the same `SlackCallbackAnswering` the HTTP routes use and
/// acks it with what the HTTP response would have carried. Replaces a socket make-before-break when Slack asks,
/// backs off when it cannot connect, and stops for good (`/readyz` 503) on `link_disabled` or a refused token.
public final class SocketModeClient: Service, Sendable {
    let opener: any SocketURLOpening
    let answerer: any SlackCallbackAnswering
    let slack: any SlackMessaging
    let settings: SocketModeSettings
    let metrics: ServerMetrics
    let logger: Logger
    /// What the reconnect waits (backoff, Retry-After) sleep on; tests pass a `ManualClock`.
    let clock: any SentryClock
    public let status: SocketModeStatus
    let deduplicator = SocketEventDeduplicator()
    private let attempts = Locked(0)

    /// `apps.connections.open` errors after which reconnecting cannot help.
    static let fatalCodes: Set<String> = [
        "invalid_auth", "not_authed", "account_inactive", "token_revoked", "user_removed_from_team", "team_disabled",
    ]

    public init(
        opener: any SocketURLOpening, answerer: any SlackCallbackAnswering, slack: any SlackMessaging, settings: SocketModeSettings,
        metrics: ServerMetrics, status: SocketModeStatus = SocketModeStatus(), clock: any SentryClock = SystemClock(), logger: Logger
    ) {
        self.opener = opener
        self.answerer = answerer
        self.slack = slack
        self.settings = settings
        self.metrics = metrics
        self.status = status
        self.clock = clock
        var logger = logger
        logger[metadataKey: "component"] = "socket-mode"
        self.logger = logger
    }

    /// How many times a URL was asked for (tests count them: a stop must not loop).
    public var connectionAttempts: Int { attempts.current }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { await self.runConnections() }
        // Stopped for good: stay down (and /readyz 503) until the process is told to stop.
        if status.stoppedReason != nil { try? await gracefulShutdown() }
    }

    /// The sockets, until cancelled or until one of them hits an unrecoverable error.
    public func runConnections() async {
        await withTaskGroup(of: String?.self) { group in
            for slot in 0..<settings.connections {
                group.addTask { await self.keep(slot: slot) }
            }
            for await fatal in group {
                guard let fatal else { continue }
                status.stop(fatal)
                group.cancelAll()
            }
        }
        metrics.socketsOpen(status.openSockets)
        if let reason = status.stoppedReason {
            logger.error("Socket Mode stopped: \(reason); fix the app's settings or SLACK_APP_TOKEN and restart (/readyz answers 503 until then)")
        }
    }

    enum SlotEvent: Sendable {
        /// Slack asked this socket to go: open its successor.
        case refresh(SocketConnection)
        /// A connection loop ended for good; non-nil: why nothing can work any more.
        case ended(fatal: String?)
    }

    /// One slot: a socket, replaced make-before-break on `warning` / `refresh_requested`. Returns the reason when
    /// it must stop for good, nil when cancelled.
    func keep(slot: Int) async -> String? {
        let (events, continuation) = AsyncStream.makeStream(of: SlotEvent.self)
        // Discarding: a replaced socket's task is freed when it ends, not kept until the slot stops.
        return await withDiscardingTaskGroup(returning: String?.self) { group in
            func launch(after predecessor: SocketConnection?, _ group: inout DiscardingTaskGroup) {
                group.addTask {
                    let fatal = await self.connect(slot: slot, predecessor: predecessor, events: continuation)
                    continuation.yield(.ended(fatal: fatal))
                }
            }
            launch(after: nil, &group)
            for await event in events {
                switch event {
                case .refresh(let connection):
                    guard connection.markReplaced() else { continue }
                    launch(after: connection, &group)
                case .ended(let fatal):
                    guard let fatal else { continue }
                    group.cancelAll()
                    continuation.finish()
                    return fatal
                }
            }
            group.cancelAll()
            return nil
        }
    }

    /// Opens sockets for a slot until one is replaced (returns nil), the task is cancelled (nil), or an error
    /// says reconnecting is pointless (the reason).
    func connect(slot: Int, predecessor: SocketConnection?, events: AsyncStream<SlotEvent>.Continuation) async -> String? {
        var failures = 0
        /// The wait before the next attempt: none at first and after a connection that lasted.
        var wait = Duration.zero
        var predecessor = predecessor
        while !Task.isCancelled {
            if wait > .zero {
                logger.debug("socket mode reconnecting after a wait", metadata: ["socket.slot": "\(slot)", "socket.wait": "\(wait)"])
                do { try await clock.sleep(for: wait) } catch { return nil }
            }
            failures += 1
            // If this attempt fails too.
            wait = settings.backoff(afterFailures: failures)
            let url: String
            do {
                attempts.withLock { $0 += 1 }
                url = try await opener.openConnection()
            } catch let error as SlackError {
                switch error {
                case .api(_, let code) where Self.fatalCodes.contains(code):
                    return "apps.connections.open answered \(code)"
                case .rateLimited(_, let retryAfter):
                    // The client waited out short Retry-Afters in place; what is left (a long one, or a short one
                    // answered again and again) is waited out here, once: the larger of it and the backoff, so
                    // even `Retry-After: 0` never makes a hot loop.
                    wait = max(retryAfter, wait)
                    logger.notice(
                        "apps.connections.open rate limited; waiting", metadata: ["socket.slot": "\(slot)", "socket.wait": "\(wait)"])
                    metrics.socketReconnect(reason: "ratelimited")
                    continue
                default:
                    logger.warning("apps.connections.open failed; retrying", metadata: ["socket.slot": "\(slot)", "error": "\(error)"])
                }
                metrics.socketReconnect(reason: "open_failed")
                continue
            } catch {
                if Task.isCancelled { return nil }
                logger.warning("apps.connections.open failed; retrying", metadata: ["socket.slot": "\(slot)", "error": "\(error)"])
                metrics.socketReconnect(reason: "open_failed")
                continue
            }
            let connection = SocketConnection(slot: slot, predecessor: predecessor)
            let started = clock.instant()
            await run(connection, url: url, events: events)
            if let fatal = connection.fatal { return fatal }
            if connection.replaced || Task.isCancelled { return nil }
            // It went without being asked to: after a real connection start again at once, else back off further.
            predecessor = nil
            if connection.saidHello {
                metrics.socketReconnect(reason: "closed")
                logger.notice("socket mode connection closed; reconnecting", metadata: ["socket.slot": "\(slot)"])
                if clock.instant() - started > .seconds(10) {
                    failures = 0
                    wait = .zero
                }
            } else {
                metrics.socketReconnect(reason: "connect_failed")
            }
        }
        return nil
    }
}
