import Foundation
import Hummingbird
import Logging
import SentryConnectors
import SentryCore
import SentryStore
import ServiceLifecycle

/// Everything `sentry serve` runs, from its configuration: the playbooks, the store (`store`, or the SQLite file
/// the configuration names), a libcurl transport (shut down once the rest has stopped) and `SentryApplication`
/// over them. Notes on what is off or on are logged as they are found; `onRunning` receives the bound port after
/// the "listening" line.
public func buildApplication(
    configuration: ServerConfiguration, store given: (any SentryStorage)? = nil, logger: Logger,
    onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let directory = configuration.playbooksDirectory
    let loaded = PlaybookLoader.load(directory: directory)
    guard loaded.problems.isEmpty else {
        throw StartupError(loaded.problems.map(\.description) + ["fix the playbooks above (sentry playbooks lint \(directory))"])
    }
    let playbooks = loaded.playbooks
    if configuration.slackAlertChannel == nil, let orphan = playbooks.first(where: { $0.channel == nil }) {
        throw StartupError(["SLACK_ALERT_CHANNEL is required: playbook '\(orphan.id)' (\(orphan.source)) names no channel"])
    }
    let store: any SentryStorage
    switch (given, configuration.database) {
    case (let given?, _):
        store = given
    case (nil, .sqlite(let path)):
        do { store = try SQLiteAlertStore(path: path, commitBatch: configuration.sqliteCommitBatch) } catch {
            throw StartupError(["SENTRY_DATABASE_URL: cannot open \(path): \(error)"])
        }
    case (nil, .postgres):
        // PostgreSQL is opened (and migrated) by `sentry serve`, which runs its pool before the application.
        throw StartupError(["SENTRY_DATABASE_URL: a PostgreSQL store must be opened by the caller and passed as store:"])
    }
    for note in configuration.disabledFeatures { logger.notice("\(note)") }

    let curl = CurlTransport()
    let sentry: SentryApplication
    do {
        sentry = try await SentryApplication(configuration: configuration, playbooks: playbooks, store: store, transport: curl, logger: logger)
    } catch {
        curl.shutdown()
        throw StartupError(["built-in detections: \(error)"])
    }
    for note in sentry.detection?.notes ?? [] { logger.notice("\(note)") }
    return sentry.application(stoppingLast: [TransportShutdown(transport: curl)]) { port in
        logger.info("listening", metadata: ["http.host": "\(configuration.host)", "http.port": "\(port)", "playbooks": "\(playbooks.count)"])
        await onRunning(port)
    }
}
