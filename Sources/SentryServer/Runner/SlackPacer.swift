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
    private let clock: any SentryClock
    /// Told each wait: `slack_post` or `slack_update`, and how long.
    private let onWait: @Sendable (String, Duration) -> Void

    public init(
        postsPerSecond: Double = 1, postBurst: Double = 3, updatesPerMinute: Double = 50, updateBurst: Double = 5,
        clock: any SentryClock = SystemClock(), onWait: @escaping @Sendable (String, Duration) -> Void = { _, _ in }
    ) {
        self.onWait = onWait
        self.clock = clock
        self.postsPerSecond = postsPerSecond
        self.postBurst = postBurst
        self.updates = TokenBucket(
            capacity: updateBurst, refillPerSecond: updatesPerMinute / 60, clock: clock, onWait: { onWait("slack_update", $0) })
    }

    /// Waits until a message may be posted to `channel`.
    public func beforePost(channel: String) async {
        let bucket =
            posts[channel]
            ?? TokenBucket(capacity: postBurst, refillPerSecond: postsPerSecond, clock: clock, onWait: { [onWait] in onWait("slack_post", $0) })
        posts[channel] = bucket
        // Cancelled (shutdown): the effect already running goes ahead rather than being abandoned half done.
        try? await bucket.acquire()
    }

    /// Waits until a message may be updated.
    public func beforeUpdate() async {
        try? await updates.acquire()
    }
}
