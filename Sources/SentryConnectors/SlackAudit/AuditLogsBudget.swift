/// The request budget Audit Logs calls draw from. Slack counts the Audit Logs API per organisation (Tier 3,
/// about 50 calls a minute), so every caller of one organisation shares one. `TokenBucket` is the real one.
public protocol AuditLogsBudget: Sendable {
    /// Waits until one more request may be sent.
    func acquire() async throws
    /// Told after a 429, so every caller slows down, not just the one that was answered.
    func drain(for retryAfter: Duration) async
}

extension TokenBucket: AuditLogsBudget {}
