import Foundation
import Logging
import PostgresNIO
import SentryCore
import SentryStore

extension PostgresAlertStore {
    /// How long a request waits for a pooled connection before it checks whether the database is there at all.
    static let leaseTimeout: Duration = .seconds(5)
    /// How long that check may take: a server that accepts the connection and then says nothing is as good as down.
    static let checkTimeout: Duration = .seconds(3)
    /// How often a request that holds a connection looks whether the connection is still open.
    static let closedPoll: Duration = .milliseconds(500)

    /// Runs `body` on a pooled connection (in a transaction, or not), and never waits on a database that is not there:
    /// - A request that has waited `leaseTimeout` for a connection checks the server on a connection of its own. When
    ///   it cannot be reached (down, restarting, refusing sessions) the request ends with `StoreError.unavailable`;
    ///   when it answers, the pool is only busy and the request keeps its place.
    /// - A request whose connection closes under it ends with `StoreError.unavailable` too. The driver does not always
    ///   fail a statement sent on a connection the server has just ended (a session terminated while the pool hands
    ///   it out): seen as a request that never returns, which held the effect runner for good.
    /// - Otherwise the work is not timed: a long statement on an open connection is left to finish.
    /// A request given up on is cancelled and not waited for, so a statement stuck in the driver holds nobody.
    func leased<T: Sendable>(inTransaction: Bool, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let held = Locked<PostgresConnection?>(nil)
        let started = Locked(false)
        return try await FirstToFinish.run {
            try await self.client.withConnection { connection in
                held.withLock { $0 = connection }
                guard inTransaction else {
                    self.connected(started)
                    return try await body(connection)
                }
                return try await connection.withTransaction(logger: self.logger) { connection in
                    self.connected(started)
                    return try await body(connection)
                }
            }
        } or: {
            try await self.watch(held: held, started: started)
        }
    }

    /// Throws once the request should be given up on (see `leased`); runs until it is cancelled otherwise.
    private func watch(held: Locked<PostgresConnection?>, started: Locked<Bool>) async throws -> Never {
        // Known down: check now (a refused connection answers in milliseconds) rather than wait first.
        var waited = Duration.zero
        var nextCheck = knownDown.current ? Duration.zero : Self.leaseTimeout
        var closedSeen = false
        while true {
            if let connection = held.current, connection.isClosed {
                // One more look: a statement that fails on the closed connection ends the request by itself.
                if closedSeen { throw StoreError.unavailable("PostgreSQL connection closed under the request") }
                closedSeen = true
            } else if !started.current, waited >= nextCheck {
                if let down = await unreachable() {
                    knownDown.withLock { $0 = true }
                    let within = waited > .zero ? " within \(Int(waited.inSeconds)) s" : ""
                    throw StoreError.unavailable("no PostgreSQL connection\(within): \(down)")
                }
                knownDown.withLock { $0 = false }
                nextCheck = waited + Self.leaseTimeout
            }
            try await Task.sleep(for: Self.closedPoll)
            waited += Self.closedPoll
        }
    }

    /// A request has its connection: the server is there.
    private func connected(_ started: Locked<Bool>) {
        started.withLock { $0 = true }
        if knownDown.current { knownDown.withLock { $0 = false } }
    }

    /// Why the server cannot be reached on a fresh connection of its own (nil when it answers within `checkTimeout`).
    func unreachable() async -> String? {
        let settings = settings
        let logger = logger
        do {
            return try await FirstToFinish.run {
                do {
                    let connection = try await PostgresConnection.connect(
                        configuration: try settings.connectionConfiguration(), id: 3, logger: logger)
                    defer { Task { try? await connection.close() } }
                    _ = try await connection.query("SELECT 1", logger: logger).collect()
                    return nil
                } catch {
                    return "\(PostgresFailure.map(error, alertID: nil))"
                }
            } or: {
                try await Task.sleep(for: Self.checkTimeout)
                return "PostgreSQL did not answer a new connection within \(Int(Self.checkTimeout.inSeconds)) s"
            }
        } catch {
            return "the check was cancelled"
        }
    }
}

/// Two pieces of work side by side: the answer is whichever ends first, and the other is cancelled but not waited
/// for. A task group would wait for it, and work stuck in a driver that does not heed cancellation would hold the
/// caller with it.
enum FirstToFinish {
    static func run<T: Sendable>(
        _ first: @escaping @Sendable () async throws -> T, or second: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.begin(continuation, [first, second])
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }

    /// The continuation, answered once, and the tasks to cancel when it is.
    private final class Race<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var outcome: Result<T, any Error>?
            var tasks: [Task<Void, Never>] = []
        }
        private let state = Locked(State())

        func begin(_ continuation: CheckedContinuation<T, any Error>, _ bodies: [@Sendable () async throws -> T]) {
            // Cancelled before it began: answered at once.
            if let outcome = state.withLock({ state -> Result<T, any Error>? in
                if state.outcome == nil { state.continuation = continuation }
                return state.outcome
            }) {
                continuation.resume(with: outcome)
                return
            }
            let tasks = bodies.map { body in
                Task {
                    do { self.finish(.success(try await body())) } catch { self.finish(.failure(error)) }
                }
            }
            let over = state.withLock { state -> Bool in
                state.tasks = tasks
                return state.outcome != nil
            }
            if over { for task in tasks { task.cancel() } }
        }

        func finish(_ outcome: Result<T, any Error>) {
            let (continuation, tasks) = state.withLock { state -> (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) in
                guard state.outcome == nil else { return (nil, []) }
                state.outcome = outcome
                defer { state.continuation = nil }
                return (state.continuation, state.tasks)
            }
            for task in tasks { task.cancel() }
            continuation?.resume(with: outcome)
        }
    }
}
