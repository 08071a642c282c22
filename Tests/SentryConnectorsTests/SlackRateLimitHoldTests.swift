import Foundation
import SentryConnectors
import SentryCore
import SentryTestSupport
import Testing

extension Connectors {
    /// A 429 holds every call of its class, not only the one that was told.
    @Suite struct SlackRateLimitHoldTests {
        @Test func retryAfterHoldsOtherCallsOfTheSameMethod() async throws {
            let slack = FakeSlack([
                "/api/chat.update": [FakeSlack.Reply(status: 429, retryAfter: "1", body: #"{"ok":false,"error":"ratelimited"}"#), .ok()],
                "/api/chat.postEphemeral": [.ok()],
            ])
            let arrivals = Locked<[(String, ContinuousClock.Instant)]>([])
            let watcher = Task {
                for await path in slack.arrivals { arrivals.withLock { $0.append((path, ContinuousClock.now)) } }
            }
            defer { watcher.cancel() }
            try await slack.run { baseURL in
                let client = SlackClient(transport: CurlTransport(), baseURL: baseURL, token: "xoxb-test-token", logger: quietLogger)
                let first = Task { try await client.update(channel: "C1", ts: "1.1", text: "one") }
                // Once the first update has been refused, a second message's update starts.
                while slack.calls.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
                try await Task.sleep(for: .milliseconds(50))
                try await client.update(channel: "C1", ts: "2.2", text: "two")
                // Another method is not held.
                try await client.postEphemeral(channel: "C1", user: "U1", text: "hi")
                try await first.value
            }
            let seen = arrivals.current
            let updates = seen.filter { $0.0.hasSuffix("chat.update") }.map(\.1)
            try #require(updates.count == 3)
            let refusedAt = updates[0]
            for sent in updates.dropFirst() {
                #expect(refusedAt.duration(to: sent) >= .milliseconds(950), "a chat.update went out \(refusedAt.duration(to: sent)) after the 429")
            }
            let ephemeral = try #require(seen.first { $0.0.hasSuffix("chat.postEphemeral") }?.1)
            #expect(ephemeral >= refusedAt)
        }

        @Test func postsAreHeldPerChannel() async throws {
            let hold = SlackRateLimitHold()
            await hold.hold(SlackRateLimitHold.key(method: "chat.postMessage", channel: "C1"), for: .seconds(5))
            #expect(await hold.remaining(SlackRateLimitHold.key(method: "chat.postMessage", channel: "C1")) > .seconds(4))
            #expect(await hold.remaining(SlackRateLimitHold.key(method: "chat.postMessage", channel: "C2")) == .zero)
            #expect(await hold.remaining(SlackRateLimitHold.key(method: "chat.update", channel: "C1")) == .zero)
            // A shorter Retry-After never shortens a hold already set.
            await hold.hold(SlackRateLimitHold.key(method: "chat.postMessage", channel: "C1"), for: .seconds(1))
            #expect(await hold.remaining(SlackRateLimitHold.key(method: "chat.postMessage", channel: "C1")) > .seconds(4))
        }

        @Test func aHoldLongerThanTheClientWaitsGoesToTheCaller() async throws {
            let slack = FakeSlack(["/api/chat.update": [.ok()]])
            try await slack.run { baseURL in
                let client = SlackClient(transport: CurlTransport(), baseURL: baseURL, token: "xoxb-test-token", logger: quietLogger)
                await client.rateLimits.hold("chat.update", for: .seconds(120))
                let error = await #expect(throws: SlackError.self) { try await client.update(channel: "C1", ts: "1.1", text: "x") }
                guard case .rateLimited = error else {
                    Issue.record("expected rateLimited, got \(String(describing: error))")
                    return
                }
            }
            #expect(slack.calls.isEmpty)
        }
    }
}
