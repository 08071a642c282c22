/// Shapes of Slack identifiers.
public enum SlackID {
    /// U… or W… followed by upper-case letters and digits.
    public static func isUser(_ id: String) -> Bool { hasShape(id, prefixes: "UW") }
    /// S… user-group ids.
    public static func isUserGroup(_ id: String) -> Bool { hasShape(id, prefixes: "S") }
    /// C…, G… or D… conversation ids.
    public static func isChannel(_ id: String) -> Bool { hasShape(id, prefixes: "CGD") }

    private static func hasShape(_ id: String, prefixes: String) -> Bool {
        guard let first = id.first, prefixes.contains(first), id.count >= 3, id.count <= 24 else { return false }
        return id.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// How to mention an id in message text.
    public static func mention(_ id: String) -> String {
        switch id {
        case "here", "channel", "everyone": return "<!\(id)>"
        default: break
        }
        if isUserGroup(id) { return "<!subteam^\(id)>" }
        if isUser(id) { return "<@\(id)>" }
        return id
    }
}
