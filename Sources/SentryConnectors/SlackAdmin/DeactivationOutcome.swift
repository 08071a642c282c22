/// What `SlackAdminClient.deactivate(userID:)` did.
public enum DeactivationOutcome: Sendable, Equatable {
    case deactivated
    /// The user was already inactive; nothing was written.
    case alreadyInactive
    case notFound
    /// Slack will not deactivate this user (the primary owner, an owner with an admin's token, a bot or app user).
    case refused(reason: String)
}
