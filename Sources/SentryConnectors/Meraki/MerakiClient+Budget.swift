import SentryCore

extension MerakiClient {
    /// A bucket for one organisation: 10 requests/s with a small burst, below Meraki's 10/s plus burst. Every
    /// Meraki client of the organisation draws from the same one.
    public static func organizationBudget(
        clock: any SentryClock = SystemClock(), onWait: @escaping @Sendable (Duration) -> Void = { _ in }
    ) -> TokenBucket {
        TokenBucket(capacity: 5, refillPerSecond: 10, clock: clock, onWait: onWait)
    }
}
