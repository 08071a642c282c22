/// The request budget Meraki clients draw from: one per organisation, shared by every caller (Meraki allows
/// 10 requests/s per organisation). `TokenBucket` is the real one.
public protocol MerakiRequestBudget: Sendable {
    /// Waits until one more request may be sent.
    func acquire() async throws
    /// Told after a 429, so every caller slows down, not just the one that was answered.
    func drain(for retryAfter: Duration) async
}

extension TokenBucket: MerakiRequestBudget {}

extension MerakiClient {
    /// A bucket for one organisation: 10 requests/s with a small burst, below Meraki's 10/s plus burst.
    public static func organizationBudget(
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) -> TokenBucket {
        TokenBucket(capacity: 5, refillPerSecond: 10, sleep: sleep)
    }
}
