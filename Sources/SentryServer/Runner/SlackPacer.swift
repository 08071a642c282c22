import Foundation
import SentryCore

/// Keeps the bot inside Slack's posting limits instead of bouncing off them: about one message per second per
/// channel (short bursts allowed), and chat.update within its tier (about 50 a minute), shared by every lane
/// of the effect runner. Calls wait their turn; nothing is dropped (updates are coalesced upstream).
public actor SlackPacer {
    struct Bucket {
        var tokens: Double
        var last: ContinuousClock.Instant
        var blockedUntil: ContinuousClock.Instant?
    }

    let postsPerSecond: Double
    let postBurst: Double
    let updatesPerSecond: Double
    let updateBurst: Double
    private var posts: [String: Bucket] = [:]
    private var updates: Bucket
    private let clock = ContinuousClock()
    /// Told each wait: `slack_post` or `slack_update`, and how long.
    private let onWait: @Sendable (String, Duration) -> Void

    public init(
        postsPerSecond: Double = 1, postBurst: Double = 3, updatesPerMinute: Double = 50, updateBurst: Double = 5,
        onWait: @escaping @Sendable (String, Duration) -> Void = { _, _ in }
    ) {
        self.onWait = onWait
        self.postsPerSecond = postsPerSecond
        self.postBurst = postBurst
        self.updatesPerSecond = updatesPerMinute / 60
        self.updateBurst = updateBurst
        self.updates = Bucket(tokens: updateBurst, last: ContinuousClock.now)
    }

    /// Waits until a message may be posted to `channel`.
    public func beforePost(channel: String) async {
        var bucket = posts[channel] ?? Bucket(tokens: postBurst, last: clock.now)
        let wait = take(&bucket, rate: postsPerSecond, burst: postBurst)
        posts[channel] = bucket
        if let wait {
            onWait("slack_post", clock.now.duration(to: wait))
            try? await Task.sleep(until: wait, clock: clock)
        }
    }

    /// Waits until a message may be updated.
    public func beforeUpdate() async {
        let wait = take(&updates, rate: updatesPerSecond, burst: updateBurst)
        if let wait {
            onWait("slack_update", clock.now.duration(to: wait))
            try? await Task.sleep(until: wait, clock: clock)
        }
    }

    /// Slack answered 429: hold that channel's posts (or all updates) for as long as it asked.
    public func rateLimited(channel: String?, retryAfter: Duration) {
        let until = clock.now + retryAfter
        if let channel {
            var bucket = posts[channel] ?? Bucket(tokens: 0, last: clock.now)
            bucket.blockedUntil = max(bucket.blockedUntil ?? until, until)
            bucket.tokens = 0
            posts[channel] = bucket
        } else {
            updates.blockedUntil = max(updates.blockedUntil ?? until, until)
            updates.tokens = 0
        }
    }

    /// Reserves one token; returns when the caller may go (nil: now). Reservations queue in call order.
    private func take(_ bucket: inout Bucket, rate: Double, burst: Double) -> ContinuousClock.Instant? {
        let now = clock.now
        let elapsed = bucket.last.duration(to: now)
        let seconds = elapsed.inSeconds
        bucket.tokens = min(burst, bucket.tokens + max(0, seconds) * rate)
        bucket.last = now
        bucket.tokens -= 1
        var start = now
        if let blocked = bucket.blockedUntil, blocked > now { start = blocked } else { bucket.blockedUntil = nil }
        if bucket.tokens >= 0 { return start > now ? start : nil }
        // In debt: the caller's turn comes when the debt is repaid.
        let wait = Duration.seconds(-bucket.tokens / rate)
        return max(start, now) + wait
    }
}
