import SentryCore

/// A posted Slack message: the domain's `MessageRef` (channel id and timestamp).
public typealias SlackMessageRef = MessageRef
