import Foundation
import SentryCore

/// Where time comes from; injected so tests drive it.
public protocol SentryClock: Sendable {
    func now() -> Date
}

public struct SystemClock: SentryClock {
    public init() {}
    public func now() -> Date { Date() }
}

/// A clock tests and the demo move by hand.
public final class ManualClock: SentryClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    public init(_ start: Date = Date(timeIntervalSince1970: 1_795_000_000)) { current = start }
    public func now() -> Date { lock.withLock { current } }
    public func advance(by seconds: TimeInterval) { lock.withLock { current = current.addingTimeInterval(seconds) } }
    public func set(_ date: Date) { lock.withLock { current = date } }
}


/// The task's value if it finishes within `deadline`, else nil; the task keeps running either way.
/// (A task group would wait for the slow child before returning, which defeats the deadline.)
func value<T: Sendable>(of task: Task<T, Never>, within deadline: Duration) async -> T? {
    let resumed = Locked(false)
    return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
        Task {
            let value = await task.value
            if resumed.withLock({ done in defer { done = true }; return !done }) { continuation.resume(returning: value) }
        }
        Task {
            try? await Task.sleep(for: deadline)
            if resumed.withLock({ done in defer { done = true }; return !done }) { continuation.resume(returning: nil) }
        }
    }
}
