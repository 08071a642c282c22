import SentryCore

/// The parts of a `users.info` user that responders and containment care about.
public struct SlackUser: Sendable, Equatable, Hashable {
    public var id: String
    public var teamID: String?
    public var name: String
    public var realName: String?
    public var displayName: String?
    public var email: String?
    public var timeZone: String?
    public var deleted: Bool
    public var isBot: Bool
    public var isAppUser: Bool
    public var isAdmin: Bool
    public var isOwner: Bool
    public var isPrimaryOwner: Bool
    public var isRestricted: Bool
    public var isUltraRestricted: Bool

    public init(
        id: String, teamID: String? = nil, name: String, realName: String? = nil, displayName: String? = nil,
        email: String? = nil, timeZone: String? = nil, deleted: Bool = false, isBot: Bool = false,
        isAppUser: Bool = false, isAdmin: Bool = false, isOwner: Bool = false, isPrimaryOwner: Bool = false,
        isRestricted: Bool = false, isUltraRestricted: Bool = false
    ) {
        self.id = id
        self.teamID = teamID
        self.name = name
        self.realName = realName
        self.displayName = displayName
        self.email = email
        self.timeZone = timeZone
        self.deleted = deleted
        self.isBot = isBot
        self.isAppUser = isAppUser
        self.isAdmin = isAdmin
        self.isOwner = isOwner
        self.isPrimaryOwner = isPrimaryOwner
        self.isRestricted = isRestricted
        self.isUltraRestricted = isUltraRestricted
    }

    /// Reads the `user` object of a `users.info` answer; nil without an id.
    public init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue else { return nil }
        let profile = json["profile"]
        func flag(_ key: String) -> Bool { json[key]?.boolValue ?? false }
        func nonEmpty(_ value: JSONValue?) -> String? {
            guard let text = value?.stringValue, !text.isEmpty else { return nil }
            return text
        }
        self.init(
            id: id,
            teamID: nonEmpty(json["team_id"]),
            name: json["name"]?.stringValue ?? "",
            realName: nonEmpty(json["real_name"]) ?? nonEmpty(profile?["real_name"]),
            displayName: nonEmpty(profile?["display_name"]),
            email: nonEmpty(profile?["email"]),
            timeZone: nonEmpty(json["tz"]),
            deleted: flag("deleted"),
            isBot: flag("is_bot"),
            isAppUser: flag("is_app_user"),
            isAdmin: flag("is_admin"),
            isOwner: flag("is_owner"),
            isPrimaryOwner: flag("is_primary_owner"),
            isRestricted: flag("is_restricted"),
            isUltraRestricted: flag("is_ultra_restricted")
        )
    }
}
