import SentryCore

/// Text of all blocks, for assertions.
public enum Transcript {
    public static func text(_ blocks: JSONValue?) -> String {
        blocks?.encoded() ?? ""
    }
}
