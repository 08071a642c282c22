/// What `SlackAdminClient.reactivate(userID:)` did.
public enum ReactivationOutcome: Sendable, Equatable {
    case reactivated
    /// The user was already active; nothing was written.
    case alreadyActive
    case notFound
}
