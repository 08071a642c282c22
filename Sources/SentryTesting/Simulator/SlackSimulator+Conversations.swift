import Foundation
import SentryCore

/// Users and direct messages: `users.info` (active humans unless told otherwise: deactivated and bot accounts for
/// tests) and `conversations.open` for a 1:1 DM, in the shapes of Slack's Web API spec.
extension SlackSimulator {
    /// How `users.info` describes a user.
    public struct Account: Sendable, Equatable {
        public var deleted: Bool
        public var isBot: Bool
        public init(deleted: Bool = false, isBot: Bool = false) {
            self.deleted = deleted
            self.isBot = isBot
        }
    }

    /// Makes `users.info` answer this user as deactivated and/or a bot.
    public func setAccount(_ id: String, _ account: Account) {
        state.withLock { $0.accounts[id] = account }
    }

    /// The DM channel `conversations.open` gave for this user, if it was opened.
    public func directMessageChannel(of user: String) -> String? {
        state.current.directMessages.first { $0.value == user }?.key
    }

    /// Messages posted in the direct messages with this user.
    public func directMessages(to user: String) -> [Message] {
        guard let channel = directMessageChannel(of: user) else { return [] }
        return messages.filter { $0.channel == channel }
    }

    /// The DM channel id Slack would give a user: `D` and the id's letters.
    static func directMessageID(_ user: String) -> String { "D" + user.dropFirst() }

    func performConversations(_ method: String, body: JSONValue, query: [String: String]) -> JSONValue {
        switch method {
        case "users.info":
            guard let user = query["user"], SlackID.isUser(user) else { return ["ok": false, "error": "user_not_found"] }
            let account = state.current.accounts[user] ?? Account()
            return [
                "ok": true,
                "user": [
                    "id": .string(user), "team_id": "T0SIMULATED", "name": .string(user.lowercased()), "deleted": .bool(account.deleted),
                    "is_bot": .bool(account.isBot), "is_app_user": false, "real_name": .string("User \(user)"),
                    "profile": ["real_name": .string("User \(user)"), "display_name": .string(user.lowercased())],
                ],
            ]
        case "conversations.open":
            guard let users = body["users"]?.stringValue, !users.isEmpty else { return ["ok": false, "error": "users_list_not_supplied"] }
            let ids = users.split(separator: ",").map(String.init)
            guard ids.count == 1, let user = ids.first else { return ["ok": false, "error": "method_not_supported_for_channel_type"] }
            guard SlackID.isUser(user) else { return ["ok": false, "error": "user_not_found"] }
            let account = state.current.accounts[user] ?? Account()
            if account.deleted { return ["ok": false, "error": "user_disabled"] }
            let id = Self.directMessageID(user)
            let already = state.withLock { state -> Bool in
                defer { state.directMessages[id] = user }
                return state.directMessages[id] != nil
            }
            var answer: [String: JSONValue] = ["ok": true, "channel": ["id": .string(id)]]
            if already { answer["already_open"] = true }
            return .object(answer)
        default:
            return ["ok": false, "error": "unknown_method"]
        }
    }
}
