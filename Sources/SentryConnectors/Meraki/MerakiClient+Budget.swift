extension MerakiClient {
    /// A bucket for one organisation: 10 requests/s with a small burst, below Meraki's 10/s plus burst. Every
    /// Meraki client of the organisation draws from the same one.
    public static func organizationBudget(
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) -> TokenBucket {
        TokenBucket(capacity: 5, refillPerSecond: 10, sleep: sleep)
    }
}
