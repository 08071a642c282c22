import SentryCore

/// Where collectors deliver normalised events (the rule engine, or a test's recorder).
public protocol EventSink: Sendable {
    func deliver(_ events: [SecurityEvent]) async throws
}
