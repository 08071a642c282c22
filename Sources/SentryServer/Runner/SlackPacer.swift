import Foundation
import SentryConnectors
import SentryCore

/// Keeps the bot inside Slack's posting limits instead of bouncing off them: about one message per second per
/// channel (short bursts allowed), and chat.update within its tier (about 50 a minute), shared by every lane
/// of the effect runner. Calls wait their turn; nothing is dropped (updates are coalesced upstream). A 429 is
/// not kept here: `SlackClient` holds the refused class (`SlackRateLimitHold`) for every caller.
public actor SlackPacer {
    let postsPerSecond: Double
    let postBurst: Double
    private var posts: [String: TokenBucket] = [:]
    private let updates: TokenBucket
    /// Told each wait: `slack_post` or `slack_update`, and how long.
    private let onWait: @Sendable (String, Duration) -> Void

    public init(
        postsPerSecond: Double = 1, postBurst: Double = 3, updatesPerMinute: Double = 50, updateBurst: Double = 5,
        onWait: @escaping @Sendable (String, Duration) -> Void = { _, _ in }
    ) {
        self.onWait = onWait
        self.postsPerSecond = postsPerSecond
        self.postBurst = postBurst
        self.updates = TokenBucket(capacity: updateBurst, refillPerSecond: updatesPerMinute / 60, sleep: Self.sleep("slack_update", onWait))
    }

    /// Waits until a message may be posted to `channel`.
    public func beforePost(channel: String) async {
        let bucket = posts[channel] ?? TokenBucket(capacity: postBurst, refillPerSecond: postsPerSecond, sleep: Self.sleep("slack_post", onWait))
        posts[channel] = bucket
        // Cancelled (shutdown): the effect already running goes ahead rather than being abandoned half done.
        try? await bucket.acquire()
    }

    /// Waits until a message may be updated.
    public func beforeUpdate() async {
        try? await updates.acquire()
    }

    private static func sleep(_ limiter: String, _ onWait: @escaping @Sendable (String, Duration) -> Void) -> @Sendable (Duration) async throws -> Void {
        { wait in
            onWait(limiter, wait)
            try await Task.sleep(for: wait)
        }
    }
}
