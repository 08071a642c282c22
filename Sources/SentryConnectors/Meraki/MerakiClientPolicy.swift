/// A client's device policy as Meraki spells it (`Normal`, `Blocked`, `Group policy`, …).
public struct MerakiDevicePolicy: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String

    /// Both spellings of the allow-list policy (`Whitelisted` in the policy PUT, `Allowed` in provisioning)
    /// read as `.allowListed`, so a policy read can always be written back.
    public init(rawValue: String) {
        switch rawValue.lowercased() {
        case "whitelisted", "allowed": self.rawValue = "Whitelisted"
        default: self.rawValue = rawValue
        }
    }

    public static let normal = MerakiDevicePolicy(rawValue: "Normal")
    public static let blocked = MerakiDevicePolicy(rawValue: "Blocked")
    public static let groupPolicy = MerakiDevicePolicy(rawValue: "Group policy")
    public static let allowListed = MerakiDevicePolicy(rawValue: "Whitelisted")
    public static let perConnection = MerakiDevicePolicy(rawValue: "Per connection")

    public var description: String { rawValue }
}

/// The policy assigned to a client (`GET`/`PUT /networks/{id}/clients/{clientId}/policy`); what is read
/// before blocking is what rollback writes back.
public struct MerakiClientPolicy: Sendable, Equatable, Decodable {
    public var mac: String?
    public var devicePolicy: MerakiDevicePolicy
    /// Set when `devicePolicy` is `Group policy`.
    public var groupPolicyID: String?

    public init(mac: String? = nil, devicePolicy: MerakiDevicePolicy, groupPolicyID: String? = nil) {
        self.mac = mac
        self.devicePolicy = devicePolicy
        self.groupPolicyID = groupPolicyID
    }

    enum CodingKeys: String, CodingKey {
        case mac, devicePolicy, groupPolicyId
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        mac = container.lenientString(.mac)
        devicePolicy = MerakiDevicePolicy(rawValue: try container.decode(String.self, forKey: .devicePolicy))
        groupPolicyID = container.lenientString(.groupPolicyId)
    }
}
