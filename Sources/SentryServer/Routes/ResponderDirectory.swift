import Foundation
import Logging
import SentryCore

/// Who may act: `SLACK_RESPONDERS` plus a playbook's own, user groups expanded through
/// `usergroups.users.list` and cached for a few minutes.
public actor ResponderDirectory {
    let globalResponders: [String]
    let slack: (any SlackMessaging)?
    let clock: any SentryClock
    let ttl: TimeInterval
    let logger: Logger
    private var groups: [String: (members: Set<String>, fetchedAt: Date)] = [:]
    private var refreshing: [String: Task<Set<String>?, Never>] = [:]
    /// How long a click waits for a group's members.
    let deadline: Duration = .milliseconds(1_500)

    public init(responders: [String], slack: (any SlackMessaging)?, clock: any SentryClock, logger: Logger, ttl: TimeInterval = 300) {
        self.globalResponders = responders
        self.slack = slack
        self.clock = clock
        self.logger = logger
        self.ttl = ttl
    }

    /// Acknowledge, resolve and dismiss: responders only when any are configured; otherwise anyone in the
    /// alert channel (containment stays closed to everyone without a responder list).
    public func mayActOnAlerts(userID: String, playbookResponders: [String]) async -> Bool {
        let all = globalResponders + playbookResponders
        if all.isEmpty { return true }
        return await isMember(userID, of: all)
    }

    /// Containment and approvals: only listed responders, never "anyone".
    public func mayContain(userID: String, playbookResponders: [String]) async -> Bool {
        await isMember(userID, of: globalResponders + playbookResponders)
    }

    func isMember(_ userID: String, of ids: [String]) async -> Bool {
        if ids.contains(userID) { return true }
        for group in ids where SlackID.isUserGroup(group) {
            if await members(of: group).contains(userID) { return true }
        }
        return false
    }

    /// Members of a group from the cache; a stale or missing entry is refreshed with a deadline, because a
    /// click must be answered within Slack's 3 seconds. A refresh that misses it still fills the cache.
    func members(of group: String) async -> Set<String> {
        let now = clock.now()
        if let cached = groups[group], now.timeIntervalSince(cached.fetchedAt) < ttl { return cached.members }
        guard let slack else { return groups[group]?.members ?? [] }
        let refresh: Task<Set<String>?, Never>
        if let running = refreshing[group] {
            refresh = running
        } else {
            let logger = self.logger
            refresh = Task {
                do {
                    return Set(try await slack.usergroupMembers(id: group))
                } catch {
                    logger.warning("could not expand user group", metadata: ["slack.usergroup": "\(group)", "error": "\(error)"])
                    return nil
                }
            }
            refreshing[group] = refresh
            Task { await self.store(group, await refresh.value) }
        }
        let fresh = await value(of: refresh, within: deadline) ?? nil
        // Keep the last known members rather than locking every responder out during a Slack hiccup.
        return fresh ?? groups[group]?.members ?? []
    }

    private func store(_ group: String, _ members: Set<String>?) {
        refreshing[group] = nil
        if let members { groups[group] = (members, clock.now()) }
    }
}
