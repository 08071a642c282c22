/// A slash command invocation (form fields of DESIGN.md §4.5).
public struct SlashCommand: Equatable, Sendable {
    public var command: String
    public var text: String
    public var userID: String
    public var channelID: String?
    public var responseURL: String?
    public var triggerID: String?

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(form: [String: String]) throws(Invalid) {
        guard let command = form["command"], !command.isEmpty else { throw Invalid(description: "missing field: command") }
        guard let user = form["user_id"], !user.isEmpty else { throw Invalid(description: "missing field: user_id") }
        self.command = command
        self.text = form["text"] ?? ""
        self.userID = user
        self.channelID = form["channel_id"]
        self.responseURL = form["response_url"]
        self.triggerID = form["trigger_id"]
    }
}

/// The interactivity payloads this bot handles, decoded from the `payload=` form field.
public enum InteractionPayload: Equatable, Sendable {
    case blockActions(BlockActions)
    case viewSubmission(callbackID: String, userID: String, privateMetadata: String, values: JSONValue)
    case viewClosed(userID: String)
    /// A payload type this bot does not act on (shortcuts, …): acknowledged and ignored.
    case other(type: String)

    public struct BlockActions: Equatable, Sendable {
        public var userID: String
        public var actionID: String
        public var value: String?
        public var responseURL: String?
        public var triggerID: String?
        public var channelID: String?
        public var messageTS: String?
    }

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    public static func decode(form: [String: String]) throws(Invalid) -> InteractionPayload {
        guard let raw = form["payload"] else { throw Invalid(description: "missing form field: payload") }
        guard let json = JSONValue.parse(Array(raw.utf8)) else { throw Invalid(description: "payload is not a JSON object") }
        return try decode(json: json)
    }

    /// The same payload as JSON, as Socket Mode's `interactive` envelopes carry it.
    public static func decode(json: JSONValue) throws(Invalid) -> InteractionPayload {
        guard json.objectValue != nil else { throw Invalid(description: "payload is not a JSON object") }
        guard let type = json["type"]?.stringValue else { throw Invalid(description: "payload.type is missing") }
        let userID = json["user"]?["id"]?.stringValue
        switch type {
        case "block_actions":
            guard let userID else { throw Invalid(description: "payload.user.id is missing") }
            guard let first = json["actions"]?.arrayValue?.first else {
                throw Invalid(description: "payload.actions is empty")
            }
            guard let actionID = first["action_id"]?.stringValue else {
                throw Invalid(description: "payload.actions[0].action_id is missing")
            }
            return .blockActions(
                BlockActions(
                    userID: userID, actionID: actionID, value: first["value"]?.stringValue,
                    responseURL: json["response_url"]?.stringValue, triggerID: json["trigger_id"]?.stringValue,
                    channelID: json["channel"]?["id"]?.stringValue ?? json["container"]?["channel_id"]?.stringValue,
                    messageTS: json["message"]?["ts"]?.stringValue ?? json["container"]?["message_ts"]?.stringValue))
        case "view_submission":
            guard let userID else { throw Invalid(description: "payload.user.id is missing") }
            return .viewSubmission(
                callbackID: json["view"]?["callback_id"]?.stringValue ?? "",
                userID: userID,
                privateMetadata: json["view"]?["private_metadata"]?.stringValue ?? "",
                values: json["view"]?["state"]?["values"] ?? .null)
        case "view_closed":
            return .viewClosed(userID: userID ?? "")
        default:
            return .other(type: type)
        }
    }
}
