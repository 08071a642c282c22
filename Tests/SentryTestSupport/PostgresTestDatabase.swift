import Foundation
import Logging
import PostgresNIO
import SentryPostgres

/// Databases for the tests on a real PostgreSQL server: `SENTRY_TEST_POSTGRES_URL` names it (`make test` and
/// `.ci/run` start a throwaway cluster with scripts/pg-test-cluster.sh); each test gets a schema of its own
/// (much cheaper to make than a database, and just as separate for the store).
public enum PostgresTestDatabase {
    public static let urlVariable = "SENTRY_TEST_POSTGRES_URL"
    /// `1`: a run by hand without a server leaves the PostgreSQL cases out instead of failing them.
    public static let skipVariable = "SENTRY_TEST_POSTGRES_SKIP"

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "\(urlVariable) is not set, so the PostgreSQL store cannot be tested: run `make test` (it starts a throwaway "
                + "server with scripts/pg-test-cluster.sh), or `scripts/pg-test-cluster.sh run swift test`; "
                + "\(skipVariable)=1 leaves the PostgreSQL cases out of a run by hand"
        }
    }

    public static let included: Bool = {
        let environment = ProcessInfo.processInfo.environment
        if environment[urlVariable]?.isEmpty == false || environment[skipVariable] != "1" { return true }
        FileHandle.standardError.write(Data("note: PostgreSQL store cases left out (\(skipVariable)=1 and no \(urlVariable))\n".utf8))
        return false
    }()

    public static var logger: Logger {
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .error
        return logger
    }

    /// The server's settings, on its maintenance database.
    public static func server() throws -> PostgresSettings {
        guard let url = ProcessInfo.processInfo.environment[urlVariable], !url.isEmpty else { throw Missing() }
        var settings = try PostgresSettings.parse(url: url).get()
        // Many tests run at once, each with its own pool.
        settings.maximumConnections = 8
        return settings
    }

    /// A new, empty schema; returns the settings that put the store's tables there.
    public static func create() async throws -> PostgresSettings {
        let server = try server()
        let name = "sentry_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await execute("CREATE SCHEMA \(name)", on: server)
        return server.schema(name)
    }

    /// A new, empty database (for a `sentry` process, which takes only a URL); returns its settings.
    public static func createDatabase() async throws -> PostgresSettings {
        let server = try server()
        let name = "sentry_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await execute("CREATE DATABASE \(name)", on: server)
        return server.database(name)
    }

    /// A migrated store in a new schema, whose pool runs until the store is released.
    public static func store() async throws -> PostgresAlertStore {
        try await PostgresAlertStore.open(settings: try await create(), logger: logger)
    }

    /// Runs one statement on a database of the test server outside any store (to set up odd states).
    public static func execute(_ sql: String, on settings: PostgresSettings) async throws {
        let connection = try await PostgresConnection.connect(configuration: try settings.connectionConfiguration(), id: 2, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
