import Foundation

/// An alert quieted for a while: detections of its detection and subject are still recorded and counted on it,
/// with no new post, no message update and no escalation, until `until`.
public struct Snooze: Codable, Equatable, Sendable {
    public var by: String
    public var reason: String
    public var since: Date
    public var until: Date
    /// Detections that arrived while it was in force.
    public var suppressed: Int

    public init(by: String, reason: String, since: Date, until: Date, suppressed: Int = 0) {
        self.by = by
        self.reason = reason
        self.since = since
        self.until = until
        self.suppressed = suppressed
    }

    public func inForce(at now: Date) -> Bool { now < until }
}

/// A submitted Snooze… form, with what the caller knows about the person.
public struct SnoozeRequest: Codable, Equatable, Sendable {
    public var userID: String
    public var mayAct: Bool
    /// Seconds, already checked against `SENTRY_MIN_TTL`…`SENTRY_MAX_TTL` by the form.
    public var duration: Int
    public var reason: String
    public var responseURL: String?

    public init(userID: String, mayAct: Bool, duration: Int, reason: String, responseURL: String? = nil) {
        self.userID = userID
        self.mayAct = mayAct
        self.duration = duration
        self.reason = reason
        self.responseURL = responseURL
    }
}

public struct Unsnooze: Codable, Equatable, Sendable {
    public var userID: String
    public var mayAct: Bool
    public var responseURL: String?

    public init(userID: String, mayAct: Bool, responseURL: String? = nil) {
        self.userID = userID
        self.mayAct = mayAct
        self.responseURL = responseURL
    }
}
