import SentryCore

/// Reads pages of Slack audit log entries; `SlackAuditClient` is the real one.
public protocol AuditLogReading: Sendable {
    func logs(_ query: SlackAuditQuery) async throws -> SlackAuditPage
}

extension AuditLogReading {
    /// Every page of a query, following `next_cursor` until Slack sends none. Entries come newest first, as
    /// Slack returns them; `nextCursor` of the result is nil.
    public func allLogs(_ query: SlackAuditQuery) async throws -> (page: SlackAuditPage, pages: Int) {
        var query = query
        var result = SlackAuditPage(events: [], malformed: 0, nextCursor: nil)
        var followed: Set<String> = []
        var pages = 0
        while true {
            let page = try await logs(query)
            pages += 1
            result.events += page.events
            result.malformed += page.malformed
            guard let next = page.nextCursor else { return (result, pages) }
            guard followed.insert(next).inserted else { throw SlackAuditError.repeatedCursor }
            query.cursor = next
        }
    }
}
