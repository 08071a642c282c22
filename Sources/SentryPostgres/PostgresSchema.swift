import Foundation
import Logging
import PostgresNIO

/// The tables, as numbered migrations. Shipped migrations never change; add new ones at the end. Every
/// replica migrates at start under one advisory lock, so replicas starting together apply each migration
/// once; a replica refuses a database migrated by a newer binary than itself.
public enum PostgresSchema {
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        /// One statement each (the extended protocol takes one at a time), applied in one transaction.
        public var statements: [String]
    }

    /// The advisory lock migrations run under: one per schema the tables live in, held until the migrating
    /// transaction ends (a transaction lock, so it never stays behind on a pooled connection, as a session
    /// lock would behind PgBouncer's transaction pooling).
    static let lock: PostgresQuery = "SELECT pg_advisory_xact_lock(hashtextextended('sentry-migrations:' || coalesce(current_schema(), ''), 0))"

    public static let migrations: [Migration] = [
        Migration(
            version: 1, name: "alerts, outbox, timers, audit, containments, collectors",
            statements: [
                // Times are seconds since 1970 as float8, exactly what the other stores keep (a Date round-trips).
                """
                CREATE TABLE alert (
                  id text PRIMARY KEY, group_key text NOT NULL, status text NOT NULL, group_until float8 NOT NULL,
                  created_at float8 NOT NULL, updated_at float8 NOT NULL, revision bigint NOT NULL, body text NOT NULL,
                  ord bigserial NOT NULL)
                """,
                "CREATE INDEX alert_by_group ON alert (group_key, created_at)",
                "CREATE INDEX alert_by_status ON alert (status, created_at)",
                "CREATE TABLE detection_seen (id text PRIMARY KEY, alert_id text NOT NULL, received_at float8 NOT NULL)",
                "CREATE INDEX detection_seen_by_time ON detection_seen (received_at)",
                """
                CREATE TABLE outbox (
                  id bigserial PRIMARY KEY, alert_id text, effect text NOT NULL, coalesce_key text,
                  idempotency_key text NOT NULL UNIQUE, state text NOT NULL DEFAULT 'pending', attempts integer NOT NULL DEFAULT 0,
                  next_attempt_at float8 NOT NULL, created_at float8 NOT NULL, finished_at float8, last_error text,
                  ordered boolean NOT NULL DEFAULT true)
                """,
                "CREATE UNIQUE INDEX outbox_coalesce ON outbox (coalesce_key) WHERE state = 'pending' AND coalesce_key IS NOT NULL",
                "CREATE INDEX outbox_due ON outbox (state, next_attempt_at)",
                "CREATE INDEX outbox_lane ON outbox (alert_id, state, ordered, id)",
                "CREATE TABLE timer (alert_id text NOT NULL, kind text NOT NULL, due_at float8 NOT NULL, PRIMARY KEY (alert_id, kind))",
                "CREATE INDEX timer_due ON timer (due_at)",
                """
                CREATE TABLE audit (
                  seq bigint PRIMARY KEY, at float8 NOT NULL, alert_id text, actor text NOT NULL, action text NOT NULL,
                  detail text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL)
                """,
                // The chain's one writer at a time: an append locks this row until its transaction ends.
                "CREATE TABLE audit_head (id integer PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash text NOT NULL)",
                "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '\(String(repeating: "0", count: 64))')",
                """
                CREATE TABLE containment (
                  id text PRIMARY KEY, alert_id text NOT NULL, kind text NOT NULL, target text NOT NULL, status text NOT NULL,
                  ord bigserial NOT NULL)
                """,
                "CREATE INDEX containment_by_target ON containment (kind, target, status)",
                """
                CREATE TABLE containment_journal (
                  containment_id text NOT NULL, key text NOT NULL, value text NOT NULL, PRIMARY KEY (containment_id, key))
                """,
                "CREATE TABLE collector_checkpoint (name text PRIMARY KEY, value text NOT NULL, updated_at float8 NOT NULL)",
                "CREATE TABLE event_seen (source text NOT NULL, id text NOT NULL, at float8 NOT NULL, PRIMARY KEY (source, id))",
                "CREATE INDEX event_seen_by_time ON event_seen (at)",
                "CREATE TABLE uplink_snapshot (key text PRIMARY KEY, body text NOT NULL)",
                """
                CREATE TABLE rule_window (
                  rule text NOT NULL, key text NOT NULL, bucket bigint NOT NULL, count bigint NOT NULL, PRIMARY KEY (rule, key, bucket))
                """,
                "CREATE TABLE rule_fired (rule text NOT NULL, key text NOT NULL, period bigint NOT NULL, PRIMARY KEY (rule, key, period))",
            ]),
        // The Home tab counts alerts by creation time.
        Migration(version: 2, name: "alerts by creation", statements: ["CREATE INDEX alert_by_creation ON alert (created_at)"]),
        // Several replicas share one outbox: the runner holding an effect, and until when.
        Migration(
            version: 3, name: "effect leases, leadership",
            statements: [
                "ALTER TABLE outbox ADD COLUMN leased_by text", "ALTER TABLE outbox ADD COLUMN leased_until float8",
                // One holder per role (the pollers' leader) until its term runs out.
                "CREATE TABLE leadership (role text PRIMARY KEY, holder text NOT NULL, expires_at float8 NOT NULL)",
            ]),
        // What `/sentry stats` counts, in columns of their own (read through alert_by_creation, no JSON); the store
        // writes them on every write, and `PostgresAlertStore.deriveStatsColumns` fills the rows already there.
        Migration(
            version: 4, name: "stats columns",
            statements: [
                """
                ALTER TABLE alert ADD COLUMN acknowledged_at float8, ADD COLUMN closed_at float8, ADD COLUMN playbook_id text,
                  ADD COLUMN detection text, ADD COLUMN subject_label text, ADD COLUMN containments_placed integer,
                  ADD COLUMN containments_approved integer, ADD COLUMN containments_rejected integer, ADD COLUMN containments_rolled_back integer
                """
            ]),
        // SENTRY_RETENTION finds the alerts closed before its cutoff through this index.
        Migration(version: 5, name: "alerts by closing", statements: ["CREATE INDEX alert_by_closing ON alert (closed_at)"]),
        // Grouping reads the live alerts of a key, not a year of finished ones under the same key (alert_by_group
        // served only grouping).
        Migration(
            version: 6, name: "live alerts by group",
            statements: [
                "CREATE INDEX alert_live_by_group ON alert (group_key, created_at) WHERE status IN ('open', 'acknowledged')",
                "DROP INDEX alert_by_group",
            ]),
    ]

    /// The newest version this binary knows.
    public static var knownVersion: Int { migrations.last?.version ?? 0 }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The database was migrated by a newer sentry: this one would misread or damage its rows.
        case newerThanBinary(database: Int, known: Int)

        public var description: String {
            switch self {
            case .newerThanBinary(let database, let known):
                "the database schema is at version \(database), newer than this sentry knows (up to \(known)): "
                    + "run a sentry at least as new as the one that migrated it, or use another database"
            }
        }
    }

    /// Brings the database to `knownVersion` in one transaction that holds the migration lock throughout
    /// (DDL is transactional in PostgreSQL: a failed migration leaves the schema as it was); returns the versions
    /// applied (empty when it was current). Throws `Failure.newerThanBinary` without changing anything when the
    /// database is ahead.
    @discardableResult
    public static func migrate(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        let applied = try await connection.withTransaction(logger: logger) { connection in
            try await connection.query(lock, logger: logger)
            return try await migrateLocked(connection, logger: logger)
        }
        for version in applied {
            let name = migrations.first { $0.version == version }?.name ?? ""
            logger.notice("database migrated", metadata: ["db.schema_version": "\(version)", "db.migration": "\(name)"])
        }
        return applied
    }

    /// The version the database is at (0 for an empty one).
    public static func version(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        let exists = try await connection.query("SELECT to_regclass('sentry_schema_version') IS NOT NULL", logger: logger)
        var found = false
        for try await value in exists.decode(Bool.self) { found = value }
        guard found else { return 0 }
        var version = 0
        for try await value in try await connection.query(
            "SELECT COALESCE(max(version), 0)::int8 FROM sentry_schema_version", logger: logger
        ).decode(Int.self) {
            version = value
        }
        return version
    }

    private static func migrateLocked(_ connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS sentry_schema_version (
              version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        let current = try await version(connection, logger: logger)
        if current > knownVersion { throw Failure.newerThanBinary(database: current, known: knownVersion) }
        var applied: [Int] = []
        for migration in migrations where migration.version > current {
            for statement in migration.statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
            try await connection.query(
                "INSERT INTO sentry_schema_version (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
            applied.append(migration.version)
        }
        return applied
    }
}
