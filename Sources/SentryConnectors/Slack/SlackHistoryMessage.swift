import SentryCore

/// One message of `conversations.history`, with its metadata when it carries any.
public struct SlackHistoryMessage: Sendable, Equatable, Hashable {
    public var ts: String
    public var text: String
    public var user: String?
    public var botID: String?
    public var threadTS: String?
    public var metadata: SlackMessageMetadata?

    public init(
        ts: String, text: String = "", user: String? = nil, botID: String? = nil, threadTS: String? = nil,
        metadata: SlackMessageMetadata? = nil
    ) {
        self.ts = ts
        self.text = text
        self.user = user
        self.botID = botID
        self.threadTS = threadTS
        self.metadata = metadata
    }

    /// Reads one element of `messages`; nil without a `ts`.
    public init?(json: JSONValue) {
        guard let ts = json["ts"]?.stringValue else { return nil }
        self.init(
            ts: ts,
            text: json["text"]?.stringValue ?? "",
            user: json["user"]?.stringValue,
            botID: json["bot_id"]?.stringValue,
            threadTS: json["thread_ts"]?.stringValue,
            metadata: SlackMessageMetadata(json: json["metadata"])
        )
    }
}
