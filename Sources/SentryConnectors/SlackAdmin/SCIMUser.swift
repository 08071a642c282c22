import SentryCore

/// A Slack user as the SCIM API shows it, reduced to what a containment decision needs.
public struct SCIMUser: Sendable, Equatable {
    public var id: String
    public var userName: String
    public var displayName: String?
    public var active: Bool
    /// The primary address, or the first one when none is marked primary.
    public var email: String?
    /// `roles[].value` when Slack sends roles (for example `primary_owner`, `owner`, `admin`).
    public var roles: [String]
    /// `multi` or `single` for guests (Slack's guest extension); nil for full members.
    public var guestType: String?
    /// SCIM has no bot flag; Slack lists bot and app users with an address at `slack-bots.com` (see the v1
    /// search fixture), so this is a hint for people, not a reason to skip a deactivation Slack may allow.
    public var isBot: Bool

    public init(
        id: String,
        userName: String,
        displayName: String? = nil,
        active: Bool,
        email: String? = nil,
        roles: [String] = [],
        guestType: String? = nil,
        isBot: Bool = false
    ) {
        self.id = id
        self.userName = userName
        self.displayName = displayName
        self.active = active
        self.email = email
        self.roles = roles
        self.guestType = guestType
        self.isBot = isBot
    }

    /// Only the primary owner holds this role; Slack refuses to deactivate them.
    public var isPrimaryOwner: Bool { roles.contains("primary_owner") }

    /// Reads a SCIM 1.1 or 2.0 user resource; nil when `id` or `active` is missing.
    public init?(json: JSONValue) {
        guard let id = json["id"]?.stringValue, !id.isEmpty, let active = json["active"]?.boolValue else { return nil }
        self.id = id
        self.active = active
        userName = json["userName"]?.stringValue ?? ""
        displayName = json["displayName"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let emails = (json["emails"]?.arrayValue ?? []).compactMap { entry -> (String, Bool)? in
            guard let value = entry["value"]?.stringValue, !value.isEmpty else { return nil }
            return (value, entry["primary"]?.boolValue ?? false)
        }
        email = (emails.first { $0.1 } ?? emails.first)?.0
        roles = (json["roles"]?.arrayValue ?? []).compactMap { $0["value"]?.stringValue }.filter { !$0.isEmpty }
        let guest = SCIMVersion.allCases.lazy.compactMap { json[$0.guestExtension]?["type"]?.stringValue }.first
        guestType = guest.flatMap { $0.isEmpty ? nil : $0 }
        isBot = emails.contains { $0.0.lowercased().hasSuffix("@slack-bots.com") }
    }
}
