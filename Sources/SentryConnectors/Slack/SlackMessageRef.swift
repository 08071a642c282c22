import SentryCore

/// A posted Slack message: its channel id and timestamp.
public struct SlackMessageRef: Sendable, Equatable, Hashable, Codable {
    public var channel: String
    public var ts: String

    public init(channel: String, ts: String) {
        self.channel = channel
        self.ts = ts
    }

    public var messageRef: MessageRef { MessageRef(channel: channel, ts: ts) }
}
