import Foundation
import Logging
import SentryConnectors
import SentryCore

/// Finds the Slack user who has an email address (`users.lookupByEmail`, scope `users:read.email`).
public protocol SlackEmailLookup: Sendable {
    /// The user's id; nil when no user of the workspace has that address.
    func userID(forEmail email: String) async throws -> String?
}

extension SlackClient: SlackEmailLookup {}

/// An engine's email or UPN subject as a Slack user, so block-user can be offered for a Sentinel account or a
/// Splunk user. Answers (found and not found) are kept for `ttl`, so a burst of one user's detections makes one
/// call; a failed look-up is not kept, and the detection goes on without a Slack user.
public final class EmailDirectory: Sendable {
    let lookup: any SlackEmailLookup
    let clock: any SentryClock
    let logger: Logger
    let ttl: TimeInterval
    /// Addresses kept at most; past that the oldest half is dropped.
    let capacity: Int
    private let cache = Locked<[String: (userID: String?, at: Date)]>([:])

    public init(lookup: any SlackEmailLookup, clock: any SentryClock, logger: Logger, ttl: TimeInterval = 3_600, capacity: Int = 10_000) {
        self.lookup = lookup
        self.clock = clock
        self.logger = logger
        self.ttl = ttl
        self.capacity = capacity
    }

    /// The Slack user of `email`, from the cache while it is fresh.
    public func userID(forEmail email: String) async -> String? {
        let key = email.lowercased()
        let now = clock.now()
        if let kept = cache.withLock({ $0[key] }), now.timeIntervalSince(kept.at) < ttl { return kept.userID }
        do {
            let found = try await lookup.userID(forEmail: email)
            let userID = found.flatMap { SlackID.isUser($0) ? $0 : nil }
            cache.withLock { cache in
                if cache.count >= capacity {
                    let oldest = cache.sorted { $0.value.at < $1.value.at }.prefix(capacity / 2).map(\.key)
                    for key in oldest { cache[key] = nil }
                }
                cache[key] = (userID, now)
            }
            return userID
        } catch {
            // Never the address itself in the log: it is personal data, and the detection still goes on.
            logger.warning("users.lookupByEmail failed; the detection goes on without a Slack user", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The subject with its Slack user filled in from its email, when it has an email and no Slack user yet.
    public func resolving(_ subject: Subject) async -> Subject {
        guard subject.slackUserID == nil, let email = subject.email else { return subject }
        var subject = subject
        subject.slackUserID = await userID(forEmail: email)
        return subject
    }
}
