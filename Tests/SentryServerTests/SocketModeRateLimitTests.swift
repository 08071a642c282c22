import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

/// `apps.connections.open` answered `ratelimited` (issue 15, point 3): the next attempt waits at least
/// Retry-After, on the clock the test moves, and the reconnect loop goes on afterwards.
@Suite struct SocketModeRateLimitTests {
    /// Lets the client run on real time for a moment, so that an attempt made too early would be seen.
    static func settle() async throws { try await Task.sleep(for: .milliseconds(150)) }

    @Test func aShort429IsWaitedOutInPlaceThenTheSocketOpens() async throws {
        let clock = ManualClock()
        try await withSocketMode(connections: 1, clock: clock, before: { $0.rateLimitNextOpens([.init(retryAfter: 30, status: 429)]) }) { h in
            #expect(await clock.waitForSleepers(1))
            #expect(clock.requestedWaits == [.seconds(30)])
            #expect(h.socket.openCalls == 1)
            clock.advance(by: 29)
            try await Self.settle()
            #expect(h.socket.openCalls == 1)
            #expect(clock.sleeping == 1)
            clock.advance(by: 1)
            #expect(await h.connected(1))
            #expect(h.socket.openCalls == 2)
        }
    }

    @Test func aLongRetryAfterIsWaitedOutByTheLoopWhichThenGoesOn() async throws {
        let clock = ManualClock()
        // Slack's other shape: HTTP 200 with `ok: false, error: ratelimited`, and a Retry-After longer than the client
        // waits in place (60 s): the reconnect loop itself waits, once.
        try await withSocketMode(connections: 1, clock: clock, before: { $0.rateLimitNextOpens([.init(retryAfter: 120, status: 200)]) }) { h in
            #expect(await clock.waitForSleepers(1))
            #expect(clock.requestedWaits == [.seconds(120)])
            clock.advance(by: 119)
            try await Self.settle()
            #expect(h.socket.openCalls == 1)
            clock.advance(by: 1)
            #expect(await h.connected(1))
            #expect(h.socket.openCalls == 2)

            // The loop goes on: Slack closes the socket, the reopen is rate limited again (a 429 this time, past the
            // client's patience), waited out, and a new socket comes.
            h.socket.rateLimitNextOpens([.init(retryAfter: 90, status: 429)])
            let first = try #require(h.socket.openConnections.first)
            try await h.socket.close(connection: first)
            // A socket that lived for no time: a short backoff first (at most the harness's 200 ms), then the open.
            #expect(await clock.waitForSleepers(1))
            #expect(try #require(clock.requestedWaits.last) <= .milliseconds(200))
            clock.advance(by: 0.2)
            #expect(await eventually { clock.requestedWaits.last == .seconds(90) && clock.sleeping == 1 })
            #expect(h.socket.openCalls == 3)
            clock.advance(by: 89)
            try await Self.settle()
            #expect(h.socket.openCalls == 3)
            clock.advance(by: 1)
            #expect(await h.connected(1))
            #expect(h.socket.openCalls == 4)
            #expect(h.socket.openConnections.first != first)
            let metrics = try await h.http.client.send("GET", "/metrics").text
            #expect(metrics.contains(#"sentry_socket_mode_reconnects_total{reason="ratelimited"} 2"#))
        }
    }

    @Test func aZeroRetryAfterNeverMakesAHotLoop() async throws {
        let clock = ManualClock()
        // Five answers of `Retry-After: 0` use up the client's attempts in place; the loop then waits its backoff.
        let limits = Array(repeating: SocketModeSimulator.RateLimit(retryAfter: 0, status: 429), count: 5)
        try await withSocketMode(connections: 1, clock: clock, before: { $0.rateLimitNextOpens(limits) }) { h in
            #expect(await clock.waitForSleepers(1))
            #expect(h.socket.openCalls == 5)
            let wait = try #require(clock.requestedWaits.last)
            #expect(wait > .zero && wait <= .milliseconds(20))
            try await Self.settle()
            #expect(h.socket.openCalls == 5)
            clock.advance(by: 0.02)
            #expect(await h.connected(1))
            #expect(h.socket.openCalls == 6)
        }
    }
}
