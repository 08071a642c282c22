import SentryCore

/// Holds every request of a rate-limited class until Slack's `Retry-After` has passed.
///
/// Slack limits `chat.postMessage` per channel and every other method per workspace. When one call is answered
/// 429, the others of its class, from any lane, would be refused too: they wait for the same deadline instead
/// of each learning it the hard way. Shared by all copies of one `SlackClient`.
public actor SlackRateLimitHold {
    private var deadlines: [String: ContinuousClock.Instant] = [:]
    private let clock: any SentryClock

    public init(clock: any SentryClock = SystemClock()) {
        self.clock = clock
    }

    /// The class a call belongs to: posts by channel, every other method by itself.
    public static func key(method: String, channel: String?) -> String {
        method == "chat.postMessage" ? "\(method) \(channel ?? "")" : method
    }

    /// Slack asked this class to wait `retryAfter` from now.
    public func hold(_ key: String, for retryAfter: Duration) {
        let until = clock.instant() + retryAfter
        if let current = deadlines[key], current >= until { return }
        deadlines[key] = until
    }

    /// How long a call of this class must still wait (zero when it may go now).
    public func remaining(_ key: String) -> Duration {
        guard let until = deadlines[key] else { return .zero }
        let now = clock.instant()
        if until <= now {
            deadlines[key] = nil
            return .zero
        }
        return now.duration(to: until)
    }
}
