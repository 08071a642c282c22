import Foundation
import PostgresNIO
import SentryCore
import SentryStore

extension PostgresAlertStore {
    // MARK: Alerts

    public func alert(id: String) async throws -> Alert? {
        try await query("SELECT body FROM alert WHERE id = \(id)").first.map { try PostgresCoding.decodeAlert(try $0.decode(String.self)) }
    }

    public func alerts(statuses: [AlertStatus], limit: Int) async throws -> [Alert] {
        try await query(
            "SELECT body FROM alert WHERE status = ANY(\(statuses.map(\.rawValue))) ORDER BY created_at DESC, ord DESC LIMIT \(limit)"
        ).map { try PostgresCoding.decodeAlert(try $0.decode(String.self)) }
    }

    public func alertCount(createdSince since: Date) async throws -> Int {
        let from = since.timeIntervalSince1970
        return try await query("SELECT count(*)::int8 FROM alert WHERE created_at >= \(from)").first?.decode(Int.self) ?? 0
    }

    public func alertCount(statuses: [AlertStatus]) async throws -> Int {
        try await query("SELECT count(*)::int8 FROM alert WHERE status = ANY(\(statuses.map(\.rawValue)))").first?.decode(Int.self) ?? 0
    }

    public func alertsHoldingActiveContainments(limit: Int) async throws -> [Alert] {
        try await query(
            """
            SELECT body FROM alert WHERE id IN (SELECT alert_id FROM containment WHERE status = 'active')
            ORDER BY created_at DESC, ord DESC LIMIT \(limit)
            """
        ).map { try PostgresCoding.decodeAlert(try $0.decode(String.self)) }
    }

    public func alerts(withTimer kind: TimerKind, limit: Int) async throws -> [Alert] {
        try await query(
            """
            SELECT a.body FROM timer t JOIN alert a ON a.id = t.alert_id WHERE t.kind = \(kind.rawValue)
            ORDER BY t.due_at, a.id COLLATE "C" LIMIT \(limit)
            """
        ).map { try PostgresCoding.decodeAlert(try $0.decode(String.self)) }
    }

    public func statsRows(createdFrom from: Date, to: Date) async throws -> [AlertStatsRow] {
        let (start, end) = (from.timeIntervalSince1970, to.timeIntervalSince1970)
        return try await query(
            """
            SELECT id, created_at, status, acknowledged_at, closed_at, playbook_id, detection, subject_label, containments_placed,
              containments_approved, containments_rejected, containments_rolled_back
            FROM alert WHERE created_at >= \(start) AND created_at < \(end) ORDER BY created_at, id COLLATE "C"
            """
        ).map { row in
            let cells = row.makeRandomAccess()
            return AlertStatsRow.fromColumns(
                id: try cells[0].decode(String.self), createdAt: try cells[1].decode(Double.self), status: try cells[2].decode(String.self),
                acknowledgedAt: try cells[3].decode(Double?.self), closedAt: try cells[4].decode(Double?.self),
                playbookID: try cells[5].decode(String?.self), detection: try cells[6].decode(String?.self),
                subjectLabel: try cells[7].decode(String?.self), containments: try (8..<12).map { try cells[$0].decode(Int?.self) })
        }
    }

    public func timers(alertID: String) async throws -> [DueTimer] {
        try await query("SELECT kind, due_at FROM timer WHERE alert_id = \(alertID) ORDER BY kind COLLATE \"C\"").compactMap { row in
            let (kind, due) = try row.decode((String, Double).self)
            return TimerKind(rawValue: kind).map { DueTimer(alertID: alertID, kind: $0, dueAt: Date(timeIntervalSince1970: due)) }
        }
    }

    // MARK: Containments

    public func activeContainmentCount() async throws -> Int {
        try await query("SELECT count(*)::int8 FROM containment WHERE status = 'active'").first?.decode(Int.self) ?? 0
    }

    public func alertID(forContainment id: String) async throws -> String? {
        try await query("SELECT alert_id FROM containment WHERE id = \(id)").first?.decode(String.self)
    }

    public func liveContainments(kind: ContainmentAction.Kind, target: String) async throws -> [LiveContainment] {
        try await Self.liveContainments(kind: kind, target: target) { try await self.query($0) }
    }

    static func liveContainments(
        kind: ContainmentAction.Kind, target: String, run: (PostgresQuery) async throws -> [PostgresRow]
    ) async throws -> [LiveContainment] {
        try await run(
            """
            SELECT id, alert_id, status FROM containment
            WHERE kind = \(kind.rawValue) AND target = \(target) AND status NOT IN ('released', 'rejected') ORDER BY ord
            """
        ).map { row in
            let (id, alertID, status) = try row.decode((String, String, String).self)
            return LiveContainment(containmentID: id, alertID: alertID, status: status)
        }
    }

    // MARK: Audit

    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await query(
            "SELECT seq, at, alert_id, actor, action, detail, prev_hash, hash FROM audit WHERE seq > \(seq) ORDER BY seq LIMIT \(limit)"
        ).map { row in
            let (seq, at, alertID, actor, action, detail, prev, hash) = try row.decode(
                (Int64, Double, String?, String, String, String, String, String).self)
            return AuditEntry.restored(
                seq: seq, at: Date(timeIntervalSince1970: at), alertID: alertID, actor: actor, action: action, detail: detail, prevHash: prev,
                hash: hash)
        }
    }

    public func ping() async throws {
        try await query("SELECT 1")
    }

    public func gauges() async throws -> StoreGauges {
        // One statement, so one snapshot.
        let rows = try await query(
            """
            SELECT 'alert', status, '', count(*)::int8 FROM alert GROUP BY status
            UNION ALL SELECT 'containment', kind, status, count(*)::int8 FROM containment GROUP BY kind, status
            UNION ALL SELECT 'outbox', state, '', count(*)::int8 FROM outbox WHERE state IN ('pending', 'failed') GROUP BY state
            """)
        var gauges = StoreGauges()
        for row in rows {
            let (table, first, second, count) = try row.decode((String, String, String, Int).self)
            switch table {
            case "alert":
                if let status = AlertStatus(rawValue: first) { gauges.alertsByStatus[status] = count }
            case "containment":
                if let kind = ContainmentAction.Kind(rawValue: first), let status = Containment.Status(rawValue: second) {
                    gauges.containments[kind, default: [:]][status] = count
                }
            default:
                if first == "pending" { gauges.outboxPending = count } else { gauges.outboxFailed = count }
            }
        }
        return gauges
    }
}

/// Rows as JSON text, in the same encoding the SQLite store writes (dates as seconds since 1970).
enum PostgresCoding {
    static func encodeAlert(_ alert: Alert) throws -> String { try StoredJSON.encode(alert) }

    static func decodeAlert(_ text: String) throws -> Alert { try StoredJSON.decode(Alert.self, text) }

    static func encodeEffect(_ effect: AlertEffect) throws -> String { try StoredJSON.encode(effect) }

    static func decodeEffect(_ text: String) throws -> AlertEffect { try StoredJSON.decode(AlertEffect.self, text) }

    static func encode<T: Encodable>(_ value: T) throws -> String { try StoredJSON.encode(value) }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T { try StoredJSON.decode(type, text) }
}
