/// Who or what a detection is about; also the grouping key of alerts.
public struct Subject: Codable, Equatable, Hashable, Sendable {
    public var slackUserID: String?
    public var ip: String?
    public var merakiNetworkID: String?
    public var merakiSerial: String?
    /// A host name as the engine gave it (`vm-web-01.example.com`, an `instance` label without its port).
    public var host: String?
    /// An email address or user principal name; the one field a Slack user can be looked up by.
    public var email: String?
    /// A user name of the engine's own directory (`alice`, `CONTOSO\alice`), not a Slack user.
    public var account: String?
    /// The engine's rule (`panther.okta.brute_force_logins`) when the engine names nothing else, so grouping still works.
    public var rule: String?

    public init(
        slackUserID: String? = nil, ip: String? = nil, merakiNetworkID: String? = nil, merakiSerial: String? = nil,
        host: String? = nil, email: String? = nil, account: String? = nil, rule: String? = nil
    ) {
        self.slackUserID = slackUserID
        self.ip = ip
        self.merakiNetworkID = merakiNetworkID
        self.merakiSerial = merakiSerial
        self.host = host
        self.email = email
        self.account = account
        self.rule = rule
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case slackUserID = "slack_user_id"
        case ip
        case merakiNetworkID = "meraki_network_id"
        case merakiSerial = "meraki_serial"
        case host
        case email
        case account
        case rule
    }

    public static let fieldNames = CodingKeys.allCases.map(\.rawValue)

    public var isEmpty: Bool {
        slackUserID == nil && ip == nil && merakiNetworkID == nil && merakiSerial == nil && host == nil && email == nil
            && account == nil && rule == nil
    }

    /// Canonical text of the fields present, in a fixed order. The fields added for engines come last, so the keys
    /// of subjects without them (every alert stored before) are unchanged.
    public var key: String {
        var parts: [String] = []
        if let slackUserID { parts.append("slack_user_id=\(slackUserID)") }
        if let ip { parts.append("ip=\(ip)") }
        if let merakiNetworkID { parts.append("meraki_network_id=\(merakiNetworkID)") }
        if let merakiSerial { parts.append("meraki_serial=\(merakiSerial)") }
        if let host { parts.append("host=\(host)") }
        if let email { parts.append("email=\(email)") }
        if let account { parts.append("account=\(account)") }
        if let rule { parts.append("rule=\(rule)") }
        return parts.joined(separator: ";")
    }

    /// The field named `name` (a `fieldNames` entry), for code that picks fields by name (`subject_from:`).
    public subscript(field name: String) -> String? {
        get {
            switch name {
            case "slack_user_id": slackUserID
            case "ip": ip
            case "meraki_network_id": merakiNetworkID
            case "meraki_serial": merakiSerial
            case "host": host
            case "email": email
            case "account": account
            case "rule": rule
            default: nil
            }
        }
        set {
            switch name {
            case "slack_user_id": slackUserID = newValue
            case "ip": ip = newValue
            case "meraki_network_id": merakiNetworkID = newValue
            case "meraki_serial": merakiSerial = newValue
            case "host": host = newValue
            case "email": email = newValue
            case "account": account = newValue
            case "rule": rule = newValue
            default: break
            }
        }
    }
}
