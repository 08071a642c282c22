import Foundation
import Logging
import PostgresNIO
import SentryCore
import SentryStore
import ServiceLifecycle

/// `AlertStore` on PostgreSQL through postgres-nio, for several replicas on one database.
///
/// Every engine step is one PostgreSQL transaction (READ COMMITTED) on one leased connection. Whatever a step
/// decides from is locked first: the alert row (`SELECT … FOR UPDATE`), the group key before reading group
/// candidates and the target before reading live containments (transaction-scoped advisory locks, which
/// also cover rows that do not exist yet), the timer's alert before the timer. A write still checks the
/// revision it read; a lost race, a serialization failure or a deadlock surfaces as
/// `StoreError.revisionConflict`, which the engine decides again. The audit chain has one writer at a time:
/// an append locks the `audit_head` row until its transaction ends.
public final class PostgresAlertStore: SentryStorage, Service {
    public let client: PostgresClient
    /// Where the pool connects; the work listener opens its own connection there (LISTEN holds a session).
    let settings: PostgresSettings
    let logger: Logger
    /// The client's `run()` when this store runs it itself (`open`); cancelled when the store goes away.
    private let ownRun: Task<Void, Never>?
    /// Whether the last check found the server unreachable and no connection has been had since: while it is,
    /// a request checks at once instead of waiting `leaseTimeout` first, so an outage answers 503 quickly.
    let knownDown = Locked(false)

    /// A store whose client runs in the caller's ServiceGroup: add the store as a service (before those that
    /// use it, so it stops after them). Migrate first (`migrate(_:logger:)`).
    public init(settings: PostgresSettings, logger: Logger) throws {
        self.client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: logger)
        self.settings = settings
        self.logger = logger
        self.ownRun = nil
    }

    private init(client: PostgresClient, settings: PostgresSettings, logger: Logger, ownRun: Task<Void, Never>) {
        self.client = client
        self.settings = settings
        self.logger = logger
        self.ownRun = ownRun
    }

    deinit { ownRun?.cancel() }

    /// Runs the connection pool until the service group shuts it down.
    public func run() async throws {
        await client.run()
    }

    /// Migrates and opens a store that runs its own pool until it is released (one-shot commands, tests).
    public static func open(settings: PostgresSettings, logger: Logger) async throws -> PostgresAlertStore {
        try await migrate(settings, logger: logger)
        let client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: logger)
        return PostgresAlertStore(client: client, settings: settings, logger: logger, ownRun: Task { await client.run() })
    }

    /// Brings the schema to this binary's version on a short-lived connection of its own, under the
    /// migration lock; throws `PostgresSchema.Failure.newerThanBinary` when the database is ahead.
    @discardableResult
    public static func migrate(_ settings: PostgresSettings, logger: Logger) async throws -> [Int] {
        try await PostgresFailure.describing {
            let connection = try await PostgresConnection.connect(
                configuration: try settings.connectionConfiguration(), id: 0, logger: logger)
            do {
                let applied = try await PostgresSchema.migrate(connection, logger: logger)
                try await deriveStatsColumns(on: connection, logger: logger)
                try? await connection.close()
                return applied
            } catch {
                try? await connection.close()
                throw error
            }
        }
    }

    // MARK: Access

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any AlertTransaction) async throws -> T) async throws -> T {
        let tracker = PostgresTransaction.Tracker()
        do {
            return try await leased(inTransaction: true) { connection in
                let value = try await body(PostgresTransaction(connection: connection, logger: self.logger, tracker: tracker))
                // Delivered when (and only if) the transaction commits: other replicas' runners look at the outbox now.
                if tracker.enqueued { try await connection.query(self.notifyWork, logger: self.logger) }
                return value
            }
        } catch {
            throw PostgresFailure.map(error, alertID: tracker.alertID)
        }
    }

    /// One statement outside the engine's transactions (outbox bookkeeping, reads); atomic by itself.
    @discardableResult
    func query(_ query: PostgresQuery) async throws -> [PostgresRow] {
        do {
            return try await leased(inTransaction: false) { connection in try await connection.query(query, logger: self.logger).collect() }
        } catch {
            throw PostgresFailure.map(error, alertID: nil)
        }
    }

    /// Several statements in one transaction of their own (not an engine step).
    func exclusive<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await leased(inTransaction: true, body)
        } catch {
            throw PostgresFailure.map(error, alertID: nil)
        }
    }

    /// Runs raw SQL; for tests that tamper with rows on purpose.
    public func unsafeExecute(_ sql: String) async throws {
        try await query(PostgresQuery(unsafeSQL: sql))
    }
}

/// What a PostgreSQL error means to the engine, and a readable line for everything else (postgres-nio's
/// own description of a server error hides the server's message).
public enum PostgresFailure {
    /// SQLSTATEs after which the whole step may simply run again: serialization_failure, deadlock_detected.
    static let retryable: Set<String> = ["40001", "40P01"]

    /// A server or connection failure with its reason, never the password.
    public struct Described: Error, CustomStringConvertible {
        public var sqlState: String?
        public var description: String
    }

    static func map(_ error: any Error, alertID: String?) -> any Error {
        if let wrapped = error as? PostgresTransactionError {
            // What went wrong first: BEGIN, the body, or COMMIT.
            if let inner = wrapped.beginError ?? wrapped.closureError ?? wrapped.commitError { return map(inner, alertID: alertID) }
            return Described(sqlState: nil, description: "PostgreSQL transaction failed")
        }
        // A connection the pool had already seen die (its socket closed under the query): the server is away.
        if let channel = error as? ChannelError, channel == .ioOnClosedChannel || channel == .alreadyClosed || channel == .eof {
            return StoreError.unavailable("PostgreSQL connection closed: \(channel)")
        }
        guard let error = error as? PSQLError else { return error }
        let state = error.serverInfo?[.sqlState]
        if let state, retryable.contains(state) { return StoreError.revisionConflict(alertID: alertID ?? "") }
        if isUnavailable(error) { return StoreError.unavailable(describe(error).description) }
        return describe(error)
    }

    /// The server is gone or refuses sessions, as opposed to refusing a statement: connection failures (also a
    /// query on a connection already closed after the server ended its session), and the
    /// SQLSTATEs of class 08 (connection exception), 57P01–57P03 (shut down, crashed, starting up) and 55000 with
    /// connections turned off (`ALLOW_CONNECTIONS false`).
    static func isUnavailable(_ error: PSQLError) -> Bool {
        switch error.code {
        // clientClosedConnection: a query sent on a connection closed after the server ended its session.
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed: return true
        default: break
        }
        guard let state = error.serverInfo?[.sqlState] else { return false }
        if state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state) { return true }
        return state == "55000" && (error.serverInfo?[.message] ?? "").contains("not currently accepting connections")
    }

    static func describe(_ error: PSQLError) -> Described {
        if let info = error.serverInfo {
            let state = info[.sqlState]
            let message = info[.message] ?? "error"
            return Described(sqlState: state, description: "PostgreSQL: \(message)\(state.map { " (SQLSTATE \($0))" } ?? "")")
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown:
            let reason = error.underlying.map { ": \($0)" } ?? ""
            return Described(sqlState: nil, description: "PostgreSQL connection failed\(reason)")
        case .sslUnsupported:
            return Described(sqlState: nil, description: "PostgreSQL server does not offer TLS (sslmode asks for it)")
        case .authMechanismRequiresPassword:
            return Described(sqlState: nil, description: "PostgreSQL asks for a password and none was given (SENTRY_DATABASE_PASSWORD_FILE)")
        default:
            return Described(sqlState: nil, description: "PostgreSQL client error: \(error.code)")
        }
    }

    /// Runs `body`, turning postgres-nio's errors into readable ones (schema failures pass through).
    static func describing<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw map(error, alertID: nil)
        }
    }
}
