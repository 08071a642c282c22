import Foundation
import GRDB
import SentryCore

/// `AlertStore` on SQLite through GRDB (WAL mode for a file, a queue for tests in memory).
///
/// One writer connection: a transaction holds it from BEGIN to COMMIT, and every other write waits for it
/// (`gate`), so the engine's reads and writes inside a transaction are never interleaved with anyone else's.
public final class SQLiteAlertStore: SentryStorage {
    let db: any DatabaseWriter
    /// Decoded alerts by id and revision: a click on a hot alert skips JSON decoding. The revision changes
    /// with every applied event, so a stale entry is never used, whoever wrote the row.
    let decoded = DecodedAlerts()
    let gate = AsyncMutex()
    /// The audit chain's last entry as of the last COMMIT through this store, so an append need not read it
    /// back (`appendAudit`). Another writer of the same file makes it stale; the next append then meets a
    /// primary-key conflict on `seq` (numbers are dense and entries never removed) and reads the tail again.
    let auditTail = Locked<AuditEntry?>(nil)
    /// Concurrent transactions wait here to share a COMMIT.
    let commits: CommitQueue
    /// A queue has one connection for reads and writes: reads wait for a transaction too.
    private let readsShareWriter: Bool

    /// Opens (and migrates) a database file in WAL mode.
    /// `commitBatch` is the most transactions one COMMIT carries (1: each commits alone).
    public convenience init(path: String, commitBatch: Int = CommitQueue.defaultLimit) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // WAL + NORMAL: durable across process crashes; a power loss may lose the last commits only.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        configuration.busyMode = .timeout(5)
        configuration.allowsUnsafeTransactions = true
        let pool = try DatabasePool(path: path, configuration: configuration)
        try self.init(writer: pool, commitBatch: commitBatch)
    }

    /// A private in-memory database, for tests and `sentry simulate`.
    public static func inMemory() throws -> SQLiteAlertStore {
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        return try SQLiteAlertStore(writer: DatabaseQueue(configuration: configuration))
    }

    /// `writer` must allow transactions that span several accesses (`Configuration.allowsUnsafeTransactions`):
    /// `transaction` opens one and runs the engine's steps in it.
    public init(writer: any DatabaseWriter, commitBatch: Int = CommitQueue.defaultLimit) throws {
        precondition(writer.configuration.allowsUnsafeTransactions, "SQLiteAlertStore needs Configuration.allowsUnsafeTransactions")
        self.db = writer
        self.readsShareWriter = writer is DatabaseQueue
        self.commits = CommitQueue(limit: commitBatch)
        try Self.migrator.migrate(writer)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        // Shipped migrations never change; add new ones below.
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE alert (
                      id TEXT PRIMARY KEY NOT NULL,
                      group_key TEXT NOT NULL,
                      status TEXT NOT NULL,
                      group_until REAL NOT NULL,
                      created_at REAL NOT NULL,
                      updated_at REAL NOT NULL,
                      revision INTEGER NOT NULL,
                      body TEXT NOT NULL
                    );
                    CREATE INDEX alert_by_group ON alert(group_key, group_until);
                    CREATE INDEX alert_by_status ON alert(status, created_at);
                    CREATE TABLE detection_seen (
                      id TEXT PRIMARY KEY NOT NULL,
                      alert_id TEXT NOT NULL,
                      received_at REAL NOT NULL
                    );
                    CREATE TABLE outbox (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      alert_id TEXT,
                      effect TEXT NOT NULL,
                      coalesce_key TEXT,
                      idempotency_key TEXT NOT NULL UNIQUE,
                      state TEXT NOT NULL DEFAULT 'pending',
                      attempts INTEGER NOT NULL DEFAULT 0,
                      next_attempt_at REAL NOT NULL,
                      created_at REAL NOT NULL,
                      finished_at REAL,
                      last_error TEXT
                    );
                    CREATE UNIQUE INDEX outbox_coalesce ON outbox(coalesce_key) WHERE state = 'pending' AND coalesce_key IS NOT NULL;
                    CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
                    CREATE INDEX outbox_by_alert ON outbox(alert_id, state);
                    CREATE TABLE timer (
                      alert_id TEXT NOT NULL,
                      kind TEXT NOT NULL,
                      due_at REAL NOT NULL,
                      PRIMARY KEY (alert_id, kind)
                    );
                    CREATE INDEX timer_due ON timer(due_at);
                    CREATE TABLE audit (
                      seq INTEGER PRIMARY KEY,
                      at REAL NOT NULL,
                      alert_id TEXT,
                      actor TEXT NOT NULL,
                      action TEXT NOT NULL,
                      detail TEXT NOT NULL,
                      prev_hash TEXT NOT NULL,
                      hash TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2-containments") { db in
            try db.execute(
                sql: """
                    CREATE TABLE containment (
                      id TEXT PRIMARY KEY NOT NULL,
                      alert_id TEXT NOT NULL,
                      kind TEXT NOT NULL,
                      target TEXT NOT NULL,
                      status TEXT NOT NULL
                    );
                    CREATE INDEX containment_by_target ON containment(kind, target, status);
                    """)
        }
        migrator.registerMigration("v3-outbox-lanes") { db in
            // Ordered effects of one alert run one after another; answers to users do not wait in line.
            try db.execute(
                sql: """
                    ALTER TABLE outbox ADD COLUMN ordered INTEGER NOT NULL DEFAULT 1;
                    UPDATE outbox SET ordered = 0 WHERE effect LIKE '{"tellUser"%';
                    CREATE INDEX outbox_lane ON outbox(alert_id, state, ordered, id);
                    """)
        }
        migrator.registerMigration("v4-containment-journal") { db in
            // Facts a containment must know to roll back (prior client policies, networks written), saved
            // before the change they describe; the first value written for a key wins.
            try db.execute(
                sql: """
                    CREATE TABLE containment_journal (
                      containment_id TEXT NOT NULL,
                      key TEXT NOT NULL,
                      value TEXT NOT NULL,
                      PRIMARY KEY (containment_id, key)
                    );
                    """)
        }
        migrator.registerMigration("v5-detection") { db in
            try db.execute(
                sql: """
                    CREATE TABLE collector_checkpoint (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL, updated_at REAL NOT NULL);
                    CREATE TABLE event_seen (source TEXT NOT NULL, id TEXT NOT NULL, at REAL NOT NULL, PRIMARY KEY (source, id));
                    CREATE INDEX event_seen_by_time ON event_seen(at);
                    CREATE TABLE uplink_snapshot (key TEXT PRIMARY KEY NOT NULL, body TEXT NOT NULL);
                    CREATE TABLE rule_window (
                      rule TEXT NOT NULL, key TEXT NOT NULL, bucket INTEGER NOT NULL, count INTEGER NOT NULL,
                      PRIMARY KEY (rule, key, bucket)
                    );
                    CREATE TABLE rule_fired (rule TEXT NOT NULL, key TEXT NOT NULL, period INTEGER NOT NULL, PRIMARY KEY (rule, key, period));
                    """)
        }
        migrator.registerMigration("v6-alert-by-creation") { db in
            // The Home tab counts alerts by creation time.
            try db.execute(sql: "CREATE INDEX alert_by_creation ON alert(created_at)")
        }
        migrator.registerMigration("v7-effect-leases") { db in
            // The runner holding an effect, and until when (the same columns as on PostgreSQL, where several share one outbox).
            try db.execute(
                sql: """
                    ALTER TABLE outbox ADD COLUMN leased_by TEXT;
                    ALTER TABLE outbox ADD COLUMN leased_until REAL;
                    CREATE TABLE leadership (role TEXT PRIMARY KEY NOT NULL, holder TEXT NOT NULL, expires_at REAL NOT NULL);
                    """)
        }
        migrator.registerMigration("v8-stats-columns") { db in
            // What `/sentry stats` counts, in columns of their own (read through alert_by_creation, no JSON), derived
            // from the body of the rows already there.
            for column in AlertStatsRow.columns {
                let type = column.hasPrefix("containments_") ? "INTEGER" : column.hasSuffix("_at") ? "REAL" : "TEXT"
                try db.execute(sql: "ALTER TABLE alert ADD COLUMN \(column) \(type)")
            }
            try deriveStatsColumns(in: db)
        }
        migrator.registerMigration("v9-alert-by-closing") { db in
            // SENTRY_RETENTION finds the alerts closed before its cutoff through this index.
            try db.execute(sql: "CREATE INDEX alert_by_closing ON alert(closed_at)")
        }
        migrator.registerMigration("v10-live-alerts-by-group") { db in
            // Grouping reads the live alerts of a key: a year of finished ones under the same key is not walked. It
            // replaces alert_by_group, which only grouping read (and which the planner would otherwise prefer).
            try db.execute(
                sql: """
                    CREATE INDEX alert_live_by_group ON alert(group_key, created_at) WHERE status IN ('open', 'acknowledged');
                    DROP INDEX alert_by_group;
                    """)
        }
        migrator.registerMigration("v11-one-outbox-index-by-alert") { db in
            // outbox_lane (alert_id, state, ordered, id) answers every look-up outbox_by_alert (alert_id, state) did:
            // one index less to write on every effect queued and finished.
            try db.execute(sql: "DROP INDEX outbox_by_alert")
        }
        return migrator
    }

    // MARK: Access

    /// Runs through the commit queue: concurrent transactions share one SQLite COMMIT, each in a savepoint of its
    /// own (`CommitQueue`). A body may run twice, when the batch it was in could not commit.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any AlertTransaction) async throws -> T) async throws -> T {
        try await grouped(body)
    }

    /// One write outside the engine's transactions (outbox bookkeeping, collector state), in a transaction of its own.
    func exclusive<T>(_ updates: (Database) throws -> T) async throws -> T {
        try await gate.withLock {
            try onWriter { db in
                var result: T?
                try db.inTransaction {
                    result = try updates(db)
                    return .commit
                }
                return result!
            }
        }
    }

    /// A read of committed rows: a reader of the pool, or the queue's one connection when no transaction holds it.
    func read<T>(_ value: (Database) throws -> T) async throws -> T {
        if readsShareWriter {
            return try await gate.withLock { try onWriter(value) }
        }
        return try onReader(value)
    }

    /// Runs on the writer connection, synchronously (the gate is held, so nobody waits behind it for long).
    func onWriter<T>(_ updates: (Database) throws -> T) throws -> T {
        try db.writeWithoutTransaction(updates)
    }

    private func onReader<T>(_ value: (Database) throws -> T) throws -> T {
        try db.read(value)
    }

}
