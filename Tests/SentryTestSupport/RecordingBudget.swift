import Foundation
import SentryConnectors

/// A request budget that never waits and records what it was told (for every client that takes one).
public final class RecordingBudget: RequestBudget, @unchecked Sendable {
    public init() {}

    private let lock = NSLock()
    private var acquired = 0
    private var drained: [Duration] = []

    public var acquisitions: Int { lock.withLock { acquired } }
    public var drains: [Duration] { lock.withLock { drained } }

    public func acquire() async throws {
        lock.withLock { acquired += 1 }
    }

    public func drain(for retryAfter: Duration) async {
        lock.withLock { drained.append(retryAfter) }
    }
}
