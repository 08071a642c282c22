/// Who or what a detection is about; also the grouping key of alerts.
public struct Subject: Codable, Equatable, Hashable, Sendable {
    public var slackUserID: String?
    public var ip: String?
    public var merakiNetworkID: String?
    public var merakiSerial: String?

    public init(slackUserID: String? = nil, ip: String? = nil, merakiNetworkID: String? = nil, merakiSerial: String? = nil) {
        self.slackUserID = slackUserID
        self.ip = ip
        self.merakiNetworkID = merakiNetworkID
        self.merakiSerial = merakiSerial
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case slackUserID = "slack_user_id"
        case ip
        case merakiNetworkID = "meraki_network_id"
        case merakiSerial = "meraki_serial"
    }

    public static let fieldNames = CodingKeys.allCases.map(\.rawValue)

    public var isEmpty: Bool {
        slackUserID == nil && ip == nil && merakiNetworkID == nil && merakiSerial == nil
    }

    /// Canonical text of the fields present, in a fixed order.
    public var key: String {
        var parts: [String] = []
        if let slackUserID { parts.append("slack_user_id=\(slackUserID)") }
        if let ip { parts.append("ip=\(ip)") }
        if let merakiNetworkID { parts.append("meraki_network_id=\(merakiNetworkID)") }
        if let merakiSerial { parts.append("meraki_serial=\(merakiSerial)") }
        return parts.joined(separator: ";")
    }
}
