/// The filters of one `GET /logs` call.
public struct SlackAuditQuery: Sendable, Equatable {
    /// Least recent `date_create` to include (inclusive), epoch seconds.
    public var oldest: Int64?
    /// Most recent `date_create` to include (inclusive), epoch seconds.
    public var latest: Int64?
    /// Entries per page; Slack allows up to 9999.
    public var limit: Int
    public var cursor: String?
    /// Action names (`file_downloaded`, `anomaly`, …); empty asks for every action.
    public var actions: [String]

    public static let maxLimit = 9_999

    public init(oldest: Int64? = nil, latest: Int64? = nil, limit: Int = 1_000, cursor: String? = nil, actions: [String] = []) {
        self.oldest = oldest
        self.latest = latest
        self.limit = min(max(limit, 1), Self.maxLimit)
        self.cursor = cursor
        self.actions = actions
    }

    /// The query string items, in a stable order.
    var items: [(String, String)] {
        var items: [(String, String)] = [("limit", String(limit))]
        if let oldest { items.append(("oldest", String(oldest))) }
        if let latest { items.append(("latest", String(latest))) }
        if !actions.isEmpty { items.append(("action", actions.joined(separator: ","))) }
        if let cursor, !cursor.isEmpty { items.append(("cursor", cursor)) }
        return items
    }
}
