import Foundation
import Logging
import PostgresNIO
import SentryStore

/// Waking the other replicas: a transaction that queues an effect sends NOTIFY on commit, and each replica's
/// listener (one connection of its own, since LISTEN belongs to a session) wakes its runner. Notifications are
/// only a hint: runners still look at the outbox every second, which covers a lost connection or a missed one.
extension PostgresAlertStore: WorkNotifying {
    /// One channel per schema the tables live in (notifications are database-wide; tests share one database).
    var workChannel: String { settings.schema.map { "sentry_work_\($0)" } ?? "sentry_work" }
    var notifyWork: PostgresQuery { "SELECT pg_notify(\(workChannel), '')" }

    public func listenForWork(wake: @escaping @Sendable () -> Void) async {
        var backoff = Duration.milliseconds(250)
        // Said once per outage (and once when the first connection fails), not at every attempt.
        var saidLost = false
        while !Task.isCancelled {
            var failure: (any Error)?
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try settings.connectionConfiguration(), id: 1, logger: logger)
                defer { Task { try? await connection.close() } }
                try await connection.listen(on: self.workChannel) { notifications in
                    logger.info("listening for work queued by other replicas", metadata: ["db.channel": "\(self.workChannel)"])
                    saidLost = false
                    backoff = .milliseconds(250)
                    // Whatever was queued while the listener was away is found by this look.
                    wake()
                    for try await _ in notifications { wake() }
                }
            } catch {
                failure = error
            }
            if Task.isCancelled { return }
            if !saidLost {
                saidLost = true
                logger.warning(
                    "no connection listening for other replicas' work; runners poll every second until it is back",
                    metadata: ["error": "\(failure.map { "\(PostgresFailure.map($0, alertID: nil))" } ?? "the server ended the session")"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(10))
        }
    }
}
