import SentryConnectors
import SentryCore

/// The Slack calls the effect runner and the handlers make; `SlackClient` is the real one.
public protocol SlackMessaging: Sendable {
    func postMessage(channel: String, text: String, blocks: JSONValue?, threadTS: String?, metadata: SlackMessageMetadata?) async throws
        -> SlackMessageRef
    func update(channel: String, ts: String, text: String, blocks: JSONValue?, metadata: SlackMessageMetadata?) async throws
    func postEphemeral(channel: String, user: String, text: String, blocks: JSONValue?, threadTS: String?) async throws
    func respond(to responseURL: String, text: String, blocks: JSONValue?, responseType: SlackResponseType, replaceOriginal: Bool) async throws
    func history(channel: String, oldest: String?, latest: String?, limit: Int) async throws -> [SlackHistoryMessage]
    func replies(channel: String, ts: String, cursor: String?, limit: Int) async throws -> (messages: [SlackHistoryMessage], nextCursor: String?)
    func usergroupMembers(id: String) async throws -> [String]
    func openView(triggerID: String, view: JSONValue) async throws
    func publishView(userID: String, view: JSONValue) async throws
    func userInfo(id: String) async throws -> SlackUser
    func openDirectMessage(userID: String) async throws -> String
}

extension SlackClient: SlackMessaging {}
