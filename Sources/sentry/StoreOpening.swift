import Foundation
import Logging
import SentryPostgres
import SentryServer
import SentryStore
import ServiceLifecycle

/// The store `SENTRY_DATABASE_URL` names: a SQLite file (the default), or PostgreSQL for several replicas.
struct OpenedStore {
    var store: any SentryStorage
    /// What must run in the service group before everything that uses the store (PostgreSQL's pool).
    var services: [any Service]
}

enum StoreOpening {
    /// For `serve`: migrates PostgreSQL under its advisory lock before anything is served; one clear line
    /// and exit 1 when the database cannot be opened, reached or is newer than this binary.
    static func forServe(_ location: DatabaseLocation, passwordFile: String?, commitBatch: Int, logger: Logger) async -> OpenedStore {
        switch location {
        case .sqlite(let path):
            do { return OpenedStore(store: try SQLiteAlertStore(path: path, commitBatch: commitBatch), services: []) } catch {
                fail(["SENTRY_DATABASE_URL: cannot open \(path): \(error)"])
            }
        case .postgres(let url):
            let settings = postgresSettings(url, passwordFile: passwordFile)
            do {
                let applied = try await PostgresAlertStore.migrate(settings, logger: logger)
                logger.info(
                    "database ready",
                    metadata: [
                        "db.url": "\(settings.redacted)", "db.schema_version": "\(PostgresSchema.knownVersion)",
                        "db.migrations_applied": "\(applied.count)",
                    ])
                let store = try PostgresAlertStore(settings: settings, logger: logger)
                return OpenedStore(store: store, services: [store])
            } catch {
                fail(["SENTRY_DATABASE_URL: \(settings.redacted): \(error)"])
            }
        }
    }

    /// For one-shot commands (`audit verify`, `audit export`): an existing database, read and released.
    static func forCommand(environment: [String: String]) async -> any SentryStorage {
        switch DatabaseLocation.parse(environment["SENTRY_DATABASE_URL"]) {
        case .success(.sqlite(let path)):
            guard FileManager.default.fileExists(atPath: path) else { fail(["SENTRY_DATABASE_URL: no database at \(path)"]) }
            do { return try SQLiteAlertStore(path: path) } catch { fail(["cannot open \(path): \(error)"]) }
        case .success(.postgres(let url)):
            let settings = postgresSettings(url, passwordFile: environment["SENTRY_DATABASE_PASSWORD_FILE"].flatMap { $0.isEmpty ? nil : $0 })
            var logger = Logger(label: "sentry")
            logger.logLevel = .warning
            do { return try await PostgresAlertStore.open(settings: settings, logger: logger) } catch {
                fail(["SENTRY_DATABASE_URL: \(settings.redacted): \(error)"])
            }
        case .failure(let problems):
            fail(problems.lines)
        }
    }

    private static func postgresSettings(_ url: String, passwordFile: String?) -> PostgresSettings {
        switch PostgresSettings.parse(url: url, passwordFile: passwordFile) {
        case .success(let settings): return settings
        case .failure(let problem): fail([problem.line])
        }
    }
}

/// A service made when the service group starts it, after the services before it have started (what it is
/// made from may need them running).
struct StartedLater: Service {
    let make: @Sendable () async throws -> any Service

    func run() async throws {
        try await make().run()
    }
}
