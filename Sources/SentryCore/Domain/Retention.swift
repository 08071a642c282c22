import Foundation

/// `SENTRY_RETENTION`: how long finished alerts are kept. Older ones are removed with everything kept for them
/// (containments, timers, finished effects, detection ids); their audit entries stay, so the hash chain stays
/// whole and what was done remains on record.
public enum Retention {
    /// 400 days: a year of history and a month to spare for the yearly review.
    public static let defaultSeconds = 400 * 86_400
    /// At least a day (a shorter one would remove what a responder still looks at); at most ten years.
    public static let allowed = 86_400...(3_650 * 86_400)

    public static let problem = "SENTRY_RETENTION must be a duration between 1d and 3650d such as 400d"

    /// Whether an alert may be removed: resolved or dismissed before `cutoff`, with nothing left that could still
    /// act (every containment released or rejected: a failed one may hold a rule that needs a person), no timer
    /// and no effect still to run.
    public static func mayRemove(_ alert: Alert, closedBefore cutoff: Date, pendingEffects: Int, timers: Int) -> Bool {
        guard alert.status.isFinished, let closed = alert.closedAt, closed < cutoff else { return false }
        return pendingEffects == 0 && timers == 0 && alert.containments.allSatisfy { $0.status.isFinal }
    }
}
