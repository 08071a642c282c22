import Foundation
import SentryCore

/// A clock tests and the demo move by hand: wall time, and (with `.manual` waits) the monotonic clock that sleeps
/// are measured on. A task sleeping on it resumes when `advance(by:)` reaches its deadline, so a test waits for
/// something to happen instead of for time to pass.
public final class ManualClock: SentryClock, @unchecked Sendable {
    /// What sleeps do: wait for `advance(by:)` (`manual`); throw `CancellationError` at once, as if the caller
    /// were cancelled, after recording the wait (`refused`: a test sees how long a caller would wait, without
    /// waiting); or pass in real time while only the wall clock is moved by hand (`real`: for loopback tests whose
    /// timestamps are fixed but whose batching timers must run).
    public enum Waits: Sendable {
        case manual, refused, real
    }

    private struct Sleeper {
        var id: UInt64
        var deadline: ContinuousClock.Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct Watcher {
        var id: UInt64
        var count: Int
        var continuation: CheckedContinuation<Bool, Never>
    }

    private let lock = NSLock()
    private let waits: Waits
    private let origin = ContinuousClock.now
    private var current: Date
    private var elapsed: Duration = .zero
    private var sleepers: [Sleeper] = []
    /// Sleeps cancelled before they were registered.
    private var cancelled: Set<UInt64> = []
    private var watchers: [Watcher] = []
    private var lastID: UInt64 = 0
    private var requested: [Duration] = []

    public init(_ start: Date = Date(timeIntervalSince1970: 1_795_000_000), waits: Waits = .manual) {
        current = start
        self.waits = waits
    }

    public func now() -> Date { lock.withLock { current } }

    public func instant() -> ContinuousClock.Instant {
        waits == .real ? .now : lock.withLock { origin + elapsed }
    }

    /// Moves wall time, and unless waits are `.real` the monotonic clock too (forward only), resuming every sleep
    /// whose deadline it reaches, earliest first.
    public func advance(by seconds: TimeInterval) {
        let due = lock.withLock { () -> [Sleeper] in
            current = current.addingTimeInterval(seconds)
            guard waits != .real, seconds > 0 else { return [] }
            elapsed += .seconds(seconds)
            let now = origin + elapsed
            let due = sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Sets wall time only: like an operator setting the system clock, it moves no deadline.
    public func set(_ date: Date) { lock.withLock { current = date } }

    /// Tasks asleep on this clock now.
    public var sleeping: Int { lock.withLock { sleepers.count } }

    /// Every wait asked of this clock so far, in order: how far each deadline was when the sleep began.
    public var requestedWaits: [Duration] { lock.withLock { requested } }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        if waits == .real {
            try await Task.sleep(until: deadline, clock: .continuous)
            return
        }
        let id = lock.withLock { () -> UInt64 in
            lastID += 1
            requested.append((origin + elapsed).duration(to: deadline))
            return lastID
        }
        if waits == .refused { throw CancellationError() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (outcome, ready) = lock.withLock { () -> (Result<Void, any Error>?, [Watcher]) in
                    if cancelled.remove(id) != nil { return (.failure(CancellationError()), []) }
                    if deadline <= origin + elapsed { return (.success(()), []) }
                    sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    let ready = watchers.filter { $0.count <= sleepers.count }
                    watchers.removeAll { $0.count <= sleepers.count }
                    return (nil, ready)
                }
                if let outcome { continuation.resume(with: outcome) }
                for watcher in ready { watcher.continuation.resume(returning: true) }
            }
        } onCancel: {
            let sleeper = lock.withLock { () -> Sleeper? in
                if let index = sleepers.firstIndex(where: { $0.id == id }) { return sleepers.remove(at: index) }
                cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns true once at least `count` tasks sleep on this clock (the component under test has done its work and
    /// waits for time to pass); false if that takes longer than `timeout` of real time.
    public func waitForSleepers(_ count: Int = 1, timeout: Duration = .seconds(10)) async -> Bool {
        let id = lock.withLock { () -> UInt64 in
            lastID += 1
            return lastID
        }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let ready = lock.withLock { () -> Bool in
                if sleepers.count >= count { return true }
                watchers.append(Watcher(id: id, count: count, continuation: continuation))
                return false
            }
            if ready {
                continuation.resume(returning: true)
                return
            }
            // A bound in real time, so a test that waits for the wrong thing fails instead of hanging.
            Task {
                try? await Task.sleep(for: timeout)
                let expired = self.lock.withLock { () -> Watcher? in
                    guard let index = self.watchers.firstIndex(where: { $0.id == id }) else { return nil }
                    return self.watchers.remove(at: index)
                }
                expired?.continuation.resume(returning: false)
            }
        }
    }
}
