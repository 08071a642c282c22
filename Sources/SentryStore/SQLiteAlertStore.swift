import Foundation
import GRDB
import SentryCore

/// `AlertStore` on SQLite through GRDB (WAL mode for a file, a queue for tests in memory).
public final class SQLiteAlertStore: AlertStore, ContainmentJournal, DetectorStore {
    private let db: any DatabaseWriter
    /// Decoded alerts by id and revision: a click on a hot alert skips JSON decoding. The revision changes
    /// with every applied event, so a stale entry is never used, whoever wrote the row.
    private let decoded = DecodedAlerts()

    /// Opens (and migrates) a database file in WAL mode.
    public convenience init(path: String) throws {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            // WAL + NORMAL: durable across process crashes; a power loss may lose the last commits only.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        configuration.busyMode = .timeout(5)
        let pool = try DatabasePool(path: path, configuration: configuration)
        try self.init(writer: pool)
    }

    /// A private in-memory database, for tests and `sentry simulate`.
    public static func inMemory() throws -> SQLiteAlertStore {
        try SQLiteAlertStore(writer: DatabaseQueue())
    }

    public init(writer: any DatabaseWriter) throws {
        self.db = writer
        try Self.migrator.migrate(writer)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        // Shipped migrations never change; add new ones below.
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
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
            try db.execute(sql: """
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
            try db.execute(sql: """
                ALTER TABLE outbox ADD COLUMN ordered INTEGER NOT NULL DEFAULT 1;
                UPDATE outbox SET ordered = 0 WHERE effect LIKE '{"tellUser"%';
                CREATE INDEX outbox_lane ON outbox(alert_id, state, ordered, id);
                """)
        }
        migrator.registerMigration("v4-containment-journal") { db in
            // Facts a containment must know to roll back (prior client policies, networks written), saved
            // before the change they describe; the first value written for a key wins.
            try db.execute(sql: """
                CREATE TABLE containment_journal (
                  containment_id TEXT NOT NULL,
                  key TEXT NOT NULL,
                  value TEXT NOT NULL,
                  PRIMARY KEY (containment_id, key)
                );
                """)
        }
        migrator.registerMigration("v5-detection") { db in
            try db.execute(sql: """
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
        return migrator
    }

    // MARK: Events

    public func ingest(_ detection: Detection, playbook: Playbook, channel: String, newAlertID: String, now: Date) async throws -> IngestResult {
        try await db.write { db in try self.ingest(detection, playbook: playbook, channel: channel, newAlertID: newAlertID, now: now, in: db) }
    }

    func ingest(_ detection: Detection, playbook: Playbook, channel: String, newAlertID: String, now: Date, in db: Database) throws -> IngestResult {
        if let existing = try String.fetchOne(db, sql: "SELECT alert_id FROM detection_seen WHERE id = ?", arguments: [detection.id]) {
            return IngestResult(alertID: existing, status: .duplicate, transition: nil)
        }
        let key = Alert.groupKey(detection: detection.detection, subject: detection.subject)
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT id, body, revision FROM alert
                WHERE group_key = ? AND group_until > ? AND status IN ('open', 'acknowledged')
                ORDER BY created_at DESC LIMIT 1
                """,
            arguments: [key, now.timeIntervalSince1970])
        let result: IngestResult
        if let row {
            let alert = try Self.decodeAlert(row["body"])
            let transition = AlertMachine.handle(alert, .detectionGrouped(detection), alertID: alert.id, now: now)
            try Self.write(transition, alertID: alert.id, revision: row["revision"], now: now, in: db)
            result = IngestResult(alertID: alert.id, status: .grouped, transition: transition)
        } else {
            let transition = AlertMachine.handle(
                nil, .detectionReceived(detection, playbook: playbook, channel: channel), alertID: newAlertID, now: now)
            try Self.write(transition, alertID: newAlertID, revision: nil, now: now, in: db)
            result = IngestResult(alertID: newAlertID, status: .created, transition: transition)
        }
        try db.execute(
            sql: "INSERT INTO detection_seen (id, alert_id, received_at) VALUES (?, ?, ?)",
            arguments: [detection.id, result.alertID, now.timeIntervalSince1970])
        return result
    }

    // MARK: Rule engine state

    /// One transaction for a batch of collected events: which ids are new, what the rules counted and fired,
    /// and the alerts their detections create or grow. A crash before it commits leaves everything to be
    /// redone; after, nothing is redone.
    /// `followUps` are events for the alert a detection lands in (by detection id), applied in the same transaction.
    public func commitRuleBatch(
        eventIDs: [(source: String, id: String)], counted: [(String, String, Double)], fired: [String],
        detections: [(Detection, Playbook, String, String)], followUps: [String: AlertEvent] = [:], now: Date
    ) async throws -> [IngestResult] {
        try await db.write { db in
            for (source, id) in eventIDs {
                try db.execute(sql: "INSERT OR IGNORE INTO event_seen (source, id, at) VALUES (?, ?, ?)", arguments: [source, id, now.timeIntervalSince1970])
            }
            for (rule, key, at) in counted {
                try db.execute(
                    sql: "INSERT INTO rule_window (rule, key, bucket, count) VALUES (?, ?, ?, 1) ON CONFLICT(rule, key, bucket) DO UPDATE SET count = count + 1",
                    arguments: [rule, key, Int64((at * 1000).rounded())])
            }
            for key in fired {
                try db.execute(sql: "INSERT OR IGNORE INTO rule_fired (rule, key, period) VALUES (?, '', 0)", arguments: [key])
            }
            var results: [IngestResult] = []
            for (detection, playbook, channel, alertID) in detections {
                let result = try self.ingest(detection, playbook: playbook, channel: channel, newAlertID: alertID, now: now, in: db)
                results.append(result)
                if result.status != .duplicate, let event = followUps[detection.id] {
                    _ = try self.apply(event, to: result.alertID, now: now, in: db)
                }
            }
            return results
        }
    }

    /// Of these event ids, the ones not counted before.
    public func unseen(source: String, ids: [String]) async throws -> Set<String> {
        try await db.read { db in
            var fresh = Set(ids)
            for id in ids where try Int.fetchOne(db, sql: "SELECT 1 FROM event_seen WHERE source = ? AND id = ?", arguments: [source, id]) != nil {
                fresh.remove(id)
            }
            return fresh
        }
    }

    /// The counting state the rule engine resumes from after a restart.
    public func ruleState(since: Date) async throws -> RuleEngine.State {
        try await db.read { db in
            var state = RuleEngine.State()
            for row in try Row.fetchAll(
                db, sql: "SELECT rule, key, bucket, count FROM rule_window WHERE bucket >= ? ORDER BY bucket",
                arguments: [Int64(since.timeIntervalSince1970 * 1000)])
            {
                let rule: String = row["rule"]
                let key: String = row["key"]
                let at = Double(row["bucket"] as Int64) / 1000
                let count: Int = row["count"]
                state.times[rule + "|" + key, default: []] += Array(repeating: at, count: count)
            }
            for key in try String.fetchAll(db, sql: "SELECT rule FROM rule_fired") { state.fired.insert(key) }
            return state
        }
    }

    public func apply(_ event: AlertEvent, to alertID: String, now: Date, completing: Int64?) async throws -> Transition {
        try await db.write { db in
            let transition = try self.apply(event, to: alertID, now: now, in: db)
            if let completing { try Self.finish(completing, state: "done", error: nil, now: now, in: db) }
            return transition
        }
    }

    public func fire(_ timer: DueTimer, now: Date) async throws -> Transition {
        try await db.write { db in
            try db.execute(
                sql: "DELETE FROM timer WHERE alert_id = ? AND kind = ?", arguments: [timer.alertID, timer.kind.rawValue])
            return try self.apply(.timerFired(timer.kind), to: timer.alertID, now: now, in: db)
        }
    }

    func apply(_ event: AlertEvent, to alertID: String, now: Date, in db: Database) throws -> Transition {
        var revision: Int64?
        var alert: Alert?
        if let current = try Int64.fetchOne(db, sql: "SELECT revision FROM alert WHERE id = ?", arguments: [alertID]) {
            revision = current
            if let cached = decoded.get(alertID, revision: current) {
                alert = cached
            } else if let body = try String.fetchOne(db, sql: "SELECT body FROM alert WHERE id = ?", arguments: [alertID]) {
                alert = try Self.decodeAlert(body)
            }
        }
        if case .containmentRequested(let request) = event, let alert,
            let other = try Row.fetchOne(
                db,
                sql: "SELECT id, alert_id, status FROM containment WHERE kind = ? AND target = ? AND status NOT IN ('released', 'rejected') AND id != ?",
                arguments: [request.kind.rawValue, request.target, request.id])
        {
            // One live block per target across all alerts: two would each record the other's state as "before".
            let otherID: String = other["id"]
            let otherAlert: String = other["alert_id"]
            let status: String = other["status"]
            let reason = "\(request.target) is already \(status.replacingOccurrences(of: "_", with: " ")) as \(otherID) on alert \(otherAlert)"
            let transition = Transition(
                alert: alert, outcome: .ignored(reason),
                effects: [.tellUser(userID: request.requestedBy, text: "Nothing to do: \(reason).", responseURL: request.responseURL)])
            try Self.write(transition, alertID: alertID, revision: revision, now: now, in: db)
            return transition
        }
        let transition = AlertMachine.handle(alert, event, alertID: alertID, now: now)
        try Self.write(transition, alertID: alertID, revision: revision, now: now, in: db)
        if let after = transition.alert {
            let cache = decoded
            let stored = (revision ?? 0) + (transition.outcome == .applied ? 1 : 0)
            // Only what was committed may be cached.
            db.afterNextTransaction { _ in cache.put(alertID, revision: stored, alert: after) }
        }
        return transition
    }

    /// State, audit entry, timers and outbox effects of one transition, inside the caller's transaction.
    static func write(_ transition: Transition, alertID: String, revision: Int64?, now: Date, in db: Database) throws {
        let at = now.timeIntervalSince1970
        var nextRevision = revision ?? 0
        if transition.outcome == .applied, let alert = transition.alert {
            nextRevision += 1
            let body = try encodeAlert(alert)
            if revision == nil {
                try db.execute(
                    sql: """
                        INSERT INTO alert (id, group_key, status, group_until, created_at, updated_at, revision, body)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [alert.id, alert.groupKey, alert.status.rawValue, alert.groupUntil.timeIntervalSince1970,
                                alert.createdAt.timeIntervalSince1970, at, nextRevision, body])
            } else {
                try db.execute(
                    sql: "UPDATE alert SET status = ?, updated_at = ?, revision = ?, body = ? WHERE id = ?",
                    arguments: [alert.status.rawValue, at, nextRevision, body, alert.id])
            }
        }
        if transition.outcome == .applied, let alert = transition.alert {
            for item in alert.containments {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO containment (id, alert_id, kind, target, status) VALUES (?, ?, ?, ?, ?)",
                    arguments: [item.id, alert.id, item.kind.rawValue, item.target, item.status.rawValue])
            }
        }
        if let audit = transition.audit {
            try appendAudit(audit, alertID: transition.alert == nil && revision == nil ? nil : alertID, at: now, in: db)
        }
        for (index, effect) in transition.effects.enumerated() {
            switch effect {
            case .scheduleTimer(let kind, let due):
                try db.execute(
                    sql: "INSERT OR REPLACE INTO timer (alert_id, kind, due_at) VALUES (?, ?, ?)",
                    arguments: [alertID, kind.rawValue, due.timeIntervalSince1970])
            case .cancelTimer(let kind):
                try db.execute(sql: "DELETE FROM timer WHERE alert_id = ? AND kind = ?", arguments: [alertID, kind.rawValue])
            default:
                let key: String
                if transition.outcome == .applied {
                    key = "\(alertID)#\(nextRevision).\(index)"
                } else {
                    key = "\(alertID)#\(UUID().uuidString).\(index)"
                }
                let coalesce: String?
                switch effect {
                case .updateMessage:
                    coalesce = "update:\(alertID)"
                case .tellUser(let user, _, _):
                    // Someone clicking a finished alert five times needs one answer, not five.
                    coalesce = "tell:\(alertID):\(user)"
                default:
                    coalesce = nil
                }
                try insertOutbox(effect, alertID: transition.alert == nil ? nil : alertID, key: key, coalesce: coalesce, at: at, in: db)
            }
        }
    }

    static func insertOutbox(_ effect: AlertEffect, alertID: String?, key: String, coalesce: String?, at: Double, in db: Database) throws {
        // A pending update of the same alert already renders the latest state: coalesce into it.
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO outbox (alert_id, effect, coalesce_key, idempotency_key, next_attempt_at, created_at, ordered)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [alertID, try encodeEffect(effect), coalesce, key, at, at, isOrdered(effect) ? 1 : 0])
    }

    static func isOrdered(_ effect: AlertEffect) -> Bool {
        if case .tellUser = effect { return false }
        return true
    }

    static func appendAudit(_ record: AuditRecord, alertID: String?, at: Date, in db: Database) throws {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        let seq: Int64 = (last?["seq"] as Int64? ?? 0) + 1
        let prev: String = last?["hash"] ?? AuditChain.genesis
        // Millisecond precision is what the chain hashes, so store exactly that.
        let stamp = Date(timeIntervalSince1970: (at.timeIntervalSince1970 * 1000).rounded() / 1000)
        let hash = AuditChain.hash(prev: prev, seq: seq, at: stamp, alertID: alertID, actor: record.actor, action: record.action, detail: record.detail)
        try db.execute(
            sql: "INSERT INTO audit (seq, at, alert_id, actor, action, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            arguments: [seq, stamp.timeIntervalSince1970, alertID, record.actor, record.action, record.detail, prev, hash])
    }

    // MARK: Containments

    public func activeContainmentCount() async throws -> Int {
        try await db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM containment WHERE status = 'active'") ?? 0 }
    }

    public func alertID(forContainment id: String) async throws -> String? {
        try await db.read { db in try String.fetchOne(db, sql: "SELECT alert_id FROM containment WHERE id = ?", arguments: [id]) }
    }

    public func liveContainments(kind: ContainmentAction.Kind, target: String) async throws -> [(containmentID: String, alertID: String, status: String)] {
        try await db.read { db in
            try Row.fetchAll(
                db, sql: "SELECT id, alert_id, status FROM containment WHERE kind = ? AND target = ? AND status NOT IN ('released', 'rejected') ORDER BY rowid",
                arguments: [kind.rawValue, target]
            ).map { ($0["id"], $0["alert_id"], $0["status"]) }
        }
    }

    public func createManual(
        _ detection: Detection, playbook: Playbook, channel: String, newAlertID: String, request: ContainmentRequest, now: Date
    ) async throws -> Transition {
        try await db.write { db in
            let created = AlertMachine.handle(nil, .detectionReceived(detection, playbook: playbook, channel: channel), alertID: newAlertID, now: now)
            guard var alert = created.alert else { return created }
            alert.manual = true
            try Self.write(Transition(alert: alert, outcome: .applied, effects: created.effects, audit: created.audit), alertID: newAlertID, revision: nil, now: now, in: db)
            return try self.apply(.containmentRequested(request), to: newAlertID, now: now, in: db)
        }
    }

    public func remember(containmentID: String, key: String, value: String) async throws -> String {
        try await db.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO containment_journal (containment_id, key, value) VALUES (?, ?, ?)",
                arguments: [containmentID, key, value])
            return try String.fetchOne(
                db, sql: "SELECT value FROM containment_journal WHERE containment_id = ? AND key = ?", arguments: [containmentID, key]) ?? value
        }
    }

    public func recall(containmentID: String) async throws -> [String: String] {
        try await db.read { db in
            var facts: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM containment_journal WHERE containment_id = ?", arguments: [containmentID]) {
                facts[row["key"]] = row["value"]
            }
            return facts
        }
    }

    // MARK: Collectors

    public func checkpoint(_ name: String) async throws -> String? {
        try await db.read { db in try String.fetchOne(db, sql: "SELECT value FROM collector_checkpoint WHERE name = ?", arguments: [name]) }
    }

    public func setCheckpoint(_ name: String, _ value: String, now: Date) async throws {
        try await db.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO collector_checkpoint (name, value, updated_at) VALUES (?, ?, ?)",
                arguments: [name, value, now.timeIntervalSince1970])
        }
    }

    public func firstSeen(source: String, ids: [String], now: Date) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await db.write { db in
            var fresh: Set<String> = []
            for id in ids {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO event_seen (source, id, at) VALUES (?, ?, ?)", arguments: [source, id, now.timeIntervalSince1970])
                if db.changesCount > 0 { fresh.insert(id) }
            }
            return fresh
        }
    }

    public func uplinkSnapshots() async throws -> [String: UplinkSnapshot] {
        try await db.read { db in
            var snapshots: [String: UplinkSnapshot] = [:]
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .secondsSince1970
            for row in try Row.fetchAll(db, sql: "SELECT key, body FROM uplink_snapshot") {
                let body: String = row["body"]
                if let snapshot = try? decoder.decode(UplinkSnapshot.self, from: Data(body.utf8)) { snapshots[row["key"]] = snapshot }
            }
            return snapshots
        }
    }

    public func saveUplinkSnapshots(_ snapshots: [UplinkSnapshot], removing gone: [String]) async throws {
        try await db.write { db in
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .secondsSince1970
            for snapshot in snapshots {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO uplink_snapshot (key, body) VALUES (?, ?)",
                    arguments: [snapshot.key, String(decoding: try encoder.encode(snapshot), as: UTF8.self)])
            }
            for key in gone { try db.execute(sql: "DELETE FROM uplink_snapshot WHERE key = ?", arguments: [key]) }
        }
    }

    // MARK: Reads

    public func alert(id: String) async throws -> Alert? {
        try await db.read { db in
            try String.fetchOne(db, sql: "SELECT body FROM alert WHERE id = ?", arguments: [id]).map(Self.decodeAlert)
        }
    }

    public func alerts(statuses: [AlertStatus], limit: Int) async throws -> [Alert] {
        try await db.read { db in
            let marks = Array(repeating: "?", count: statuses.count).joined(separator: ",")
            var arguments = StatementArguments(statuses.map(\.rawValue))
            arguments += [limit]
            return try String.fetchAll(
                db, sql: "SELECT body FROM alert WHERE status IN (\(marks)) ORDER BY created_at DESC LIMIT ?", arguments: arguments
            ).map(Self.decodeAlert)
        }
    }

    // MARK: Outbox

    public func dueEffects(now: Date, limit: Int) async throws -> [OutboxEntry] {
        // Only the head of each alert's lane: a later effect never overtakes an earlier one that waits
        // for a retry, and rows waiting behind a head never crowd out other alerts' work.
        let (entries, unreadable) = try await db.read { db -> ([OutboxEntry], [(Int64, String)]) in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM outbox o
                    WHERE o.state = 'pending' AND o.next_attempt_at <= ?
                      AND (o.ordered = 0 OR o.alert_id IS NULL OR NOT EXISTS (
                        SELECT 1 FROM outbox p
                        WHERE p.alert_id = o.alert_id AND p.state = 'pending' AND p.ordered = 1 AND p.id < o.id))
                    ORDER BY o.id LIMIT ?
                    """,
                arguments: [now.timeIntervalSince1970, limit])
            var entries: [OutboxEntry] = []
            var unreadable: [(Int64, String)] = []
            for row in rows {
                do {
                    entries.append(try Self.decodeEntry(row))
                } catch {
                    unreadable.append((row["id"], "\(error)"))
                }
            }
            return (entries, unreadable)
        }
        if !unreadable.isEmpty {
            // A row this version cannot read (written by a newer one, or damaged) must not stop the others.
            try await db.write { db in
                for (id, error) in unreadable {
                    try Self.finish(id, state: "failed", error: "unreadable effect: \(error.prefix(200))", now: now, in: db)
                }
            }
        }
        return entries
    }

    public func releaseCoalesceKey(_ id: Int64) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE outbox SET coalesce_key = NULL WHERE id = ?", arguments: [id])
        }
    }

    public func purge(doneBefore: Date, detectionsBefore: Date) async throws -> Int {
        try await db.write { db in
            try db.execute(
                sql: "DELETE FROM outbox WHERE state = 'done' AND finished_at < ?", arguments: [doneBefore.timeIntervalSince1970])
            let outbox = db.changesCount
            try db.execute(
                sql: "DELETE FROM detection_seen WHERE received_at < ?", arguments: [detectionsBefore.timeIntervalSince1970])
            let detections = db.changesCount
            // Windows are at most a few weeks long; seen event ids only matter while collectors may re-read them.
            try db.execute(sql: "DELETE FROM rule_window WHERE bucket < ?", arguments: [Int64(detectionsBefore.timeIntervalSince1970 * 1000)])
            try db.execute(sql: "DELETE FROM event_seen WHERE at < ?", arguments: [detectionsBefore.timeIntervalSince1970])
            return outbox + detections
        }
    }

    public func outbox(alertID: String?) async throws -> [OutboxEntry] {
        try await db.read { db in
            if let alertID {
                return try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE alert_id = ? ORDER BY id", arguments: [alertID]).compactMap { try? Self.decodeEntry($0) }
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id").compactMap { try? Self.decodeEntry($0) }
        }
    }

    public func beginAttempt(_ id: Int64) async throws -> Int {
        try await db.write { db in
            let previous = try Int.fetchOne(db, sql: "SELECT attempts FROM outbox WHERE id = ?", arguments: [id]) ?? 0
            try db.execute(sql: "UPDATE outbox SET attempts = attempts + 1 WHERE id = ?", arguments: [id])
            return previous
        }
    }

    public func completeEffect(_ id: Int64, now: Date) async throws {
        try await db.write { db in try Self.finish(id, state: "done", error: nil, now: now, in: db) }
    }

    public func completeEffects(_ ids: [Int64], now: Date) async throws {
        try await db.write { db in
            for id in ids { try Self.finish(id, state: "done", error: nil, now: now, in: db) }
        }
    }

    public func playbookID(ofAlert id: String) async throws -> String? {
        try await db.read { db in
            try String.fetchOne(db, sql: "SELECT json_extract(body, '$.playbookID') FROM alert WHERE id = ?", arguments: [id])
        }
    }

    public func failEffect(_ id: Int64, error: String, now: Date) async throws {
        try await db.write { db in try Self.finish(id, state: "failed", error: error, now: now, in: db) }
    }

    public func retryEffect(_ id: Int64, error: String, at: Date, attemptDelta: Int) async throws {
        try await db.write { db in
            try db.execute(
                sql: "UPDATE outbox SET attempts = MAX(0, attempts + ?), last_error = ?, next_attempt_at = ? WHERE id = ? AND state = 'pending'",
                arguments: [attemptDelta, error, at.timeIntervalSince1970, id])
        }
    }

    static func finish(_ id: Int64, state: String, error: String?, now: Date, in db: Database) throws {
        // Leaving the pending state frees the coalesce key for the next update.
        try db.execute(
            sql: "UPDATE outbox SET state = ?, last_error = ?, finished_at = ?, coalesce_key = NULL WHERE id = ?",
            arguments: [state, error, now.timeIntervalSince1970, id])
    }

    public func hasPendingPost(alertID: String) async throws -> Bool {
        try await db.read { db in
            let effects = try String.fetchAll(
                db, sql: "SELECT effect FROM outbox WHERE alert_id = ? AND state = 'pending'", arguments: [alertID])
            return try effects.contains { try Self.decodeEffect($0) == .postAlert }
        }
    }

    public func gauges() async throws -> StoreGauges {
        try await db.read { db in
            var gauges = StoreGauges()
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM alert GROUP BY status") {
                if let status = AlertStatus(rawValue: row["status"]) { gauges.alertsByStatus[status] = row["n"] }
            }
            for row in try Row.fetchAll(db, sql: "SELECT kind, status, COUNT(*) AS n FROM containment GROUP BY kind, status") {
                if let kind = ContainmentAction.Kind(rawValue: row["kind"]), let status = Containment.Status(rawValue: row["status"]) {
                    gauges.containments[kind, default: [:]][status] = row["n"]
                }
            }
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM outbox WHERE state IN ('pending', 'failed') GROUP BY state") {
                let n: Int = row["n"]
                if row["state"] == "pending" { gauges.outboxPending = n } else { gauges.outboxFailed = n }
            }
            return gauges
        }
    }

    public func enqueue(_ effect: AlertEffect, idempotencyKey: String, now: Date) async throws -> Bool {
        try await db.write { db in
            try Self.insertOutbox(effect, alertID: nil, key: idempotencyKey, coalesce: nil, at: now.timeIntervalSince1970, in: db)
            return db.changesCount > 0
        }
    }

    // MARK: Timers

    public func dueTimers(now: Date, limit: Int) async throws -> [DueTimer] {
        try await db.read { db in
            try Row.fetchAll(
                db, sql: "SELECT alert_id, kind, due_at FROM timer WHERE due_at <= ? ORDER BY due_at LIMIT ?",
                arguments: [now.timeIntervalSince1970, limit]
            ).compactMap { row in
                guard let kind = TimerKind(rawValue: row["kind"]) else { return nil }
                return DueTimer(alertID: row["alert_id"], kind: kind, dueAt: Date(timeIntervalSince1970: row["due_at"]))
            }
        }
    }

    public func nextTimerDue() async throws -> Date? {
        try await db.read { db in
            try Double.fetchOne(db, sql: "SELECT MIN(due_at) FROM timer").map(Date.init(timeIntervalSince1970:))
        }
    }

    // MARK: Audit

    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit]).map { row in
                AuditEntry(
                    seq: row["seq"], at: Date(timeIntervalSince1970: row["at"]), alertID: row["alert_id"], actor: row["actor"],
                    action: row["action"], detail: row["detail"], prevHash: row["prev_hash"], hash: row["hash"])
            }
        }
    }

    public func recordAudit(_ record: AuditRecord, now: Date) async throws {
        try await db.write { db in try Self.appendAudit(record, alertID: nil, at: now, in: db) }
    }

    public func ping() async throws {
        _ = try await db.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// Runs raw SQL; for tests that tamper with rows on purpose.
    public func unsafeExecute(_ sql: String) async throws {
        try await db.write { db in try db.execute(sql: sql) }
    }

    // MARK: Coding

    static func encodeAlert(_ alert: Alert) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return String(decoding: try encoder.encode(alert), as: UTF8.self)
    }

    static func decodeAlert(_ text: String) throws -> Alert {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(Alert.self, from: Data(text.utf8))
    }

    static func encodeEffect(_ effect: AlertEffect) throws -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return String(decoding: try encoder.encode(effect), as: UTF8.self)
    }

    static func decodeEffect(_ text: String) throws -> AlertEffect {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(AlertEffect.self, from: Data(text.utf8))
    }

    static func decodeEntry(_ row: Row) throws -> OutboxEntry {
        OutboxEntry(
            id: row["id"], alertID: row["alert_id"], effect: try decodeEffect(row["effect"]), attempts: row["attempts"],
            idempotencyKey: row["idempotency_key"], state: row["state"], lastError: row["last_error"])
    }
}

/// A small cache of decoded alerts keyed by id and revision.
final class DecodedAlerts: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (revision: Int64, alert: Alert)] = [:]
    private let capacity = 4_096

    func get(_ id: String, revision: Int64) -> Alert? {
        lock.withLock {
            guard let entry = entries[id], entry.revision == revision else { return nil }
            return entry.alert
        }
    }

    func put(_ id: String, revision: Int64, alert: Alert) {
        lock.withLock {
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[id] = (revision, alert)
        }
    }
}
