import Foundation
import SentryCore
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryPostgres

/// The race under every pooled request: the first answer wins, and work that ignores cancellation holds nobody.
@Suite(.timeLimit(.minutes(1))) struct FirstToFinishTests {
    /// Work that returns only when the test lets it, cancelled or not (a statement stuck in the driver).
    final class Stuck: Sendable {
        let gate = Locked<CheckedContinuation<Void, Never>?>(nil)
        let finished = Locked(false)
        let cancelled = Locked(false)

        func work() async throws -> String {
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in gate.withLock { $0 = continuation } }
            } onCancel: {
                self.cancelled.withLock { $0 = true }
            }
            finished.withLock { $0 = true }
            return "stuck"
        }

        func release() async {
            while gate.current == nil { await Task.yield() }
            gate.withLock { $0?.resume() }
        }
    }

    @Test func aFailureEndsTheRaceWhileTheOtherWorkIsStuck() async throws {
        let stuck = Stuck()
        await #expect(throws: StoreError.self) {
            try await FirstToFinish.run {
                try await stuck.work()
            } or: {
                throw StoreError.unavailable("gone")
            }
        }
        #expect(!stuck.finished.current)
        #expect(await eventually { stuck.cancelled.current })
        await stuck.release()
        #expect(await eventually { stuck.finished.current })
    }

    @Test func theFirstAnswerWinsAndTheOtherIsCancelled() async throws {
        let stuck = Stuck()
        let answer = try await FirstToFinish.run {
            "quick"
        } or: {
            try await stuck.work()
        }
        #expect(answer == "quick")
        #expect(await eventually { stuck.cancelled.current })
        await stuck.release()
    }

    @Test func cancellingTheCallerEndsItAtOnce() async throws {
        let one = Stuck()
        let other = Stuck()
        let caller = Task {
            try await FirstToFinish.run {
                try await one.work()
            } or: {
                try await other.work()
            }
        }
        while one.gate.current == nil || other.gate.current == nil { await Task.yield() }
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(!one.finished.current && !other.finished.current)
        #expect(one.cancelled.current && other.cancelled.current)
        await one.release()
        await other.release()
    }

    @Test func aCallerCancelledBeforeTheRaceBeginsIsAnsweredWithoutRunningAnything() async throws {
        let ran = Locked(false)
        let caller = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await FirstToFinish.run {
                ran.withLock { $0 = true }
                return 1
            } or: {
                ran.withLock { $0 = true }
                return 2
            }
        }
        await #expect(throws: CancellationError.self) { try await caller.value }
        #expect(!ran.current)
    }
}
