import Foundation
import SentryCore

/// The task's value if it finishes within `deadline`, else nil; the task keeps running either way.
/// (A task group would wait for the slow child before returning, which defeats the deadline.)
func value<T: Sendable>(of task: Task<T, Never>, within deadline: Duration) async -> T? {
    let resumed = Locked(false)
    return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
        Task {
            let value = await task.value
            if resumed.withLock({ done in
                defer { done = true }
                return !done
            }) {
                continuation.resume(returning: value)
            }
        }
        Task {
            try? await Task.sleep(for: deadline)
            if resumed.withLock({ done in
                defer { done = true }
                return !done
            }) {
                continuation.resume(returning: nil)
            }
        }
    }
}
