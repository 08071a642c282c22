/// A device seen on a network (`GET /networks/{id}/clients`); not to be confused with `MerakiClient`.
public struct MerakiNetworkClient: Sendable, Equatable, Decodable {
    /// The client key (`k74272e`) the policy endpoints take.
    public var id: String
    public var mac: String?
    public var ip: String?
    public var ip6: String?
    public var description: String?
    public var user: String?
    public var os: String?
    public var manufacturer: String?
    public var vlan: String?
    public var ssid: String?
    /// `Online` or `Offline`.
    public var status: String?
    /// Epoch seconds.
    public var firstSeen: Int?
    public var lastSeen: Int?
    public var recentDeviceSerial: String?
    public var recentDeviceName: String?
    public var recentDeviceConnection: String?

    enum CodingKeys: String, CodingKey {
        case id, mac, ip, ip6, description, user, os, manufacturer, vlan, ssid, status, firstSeen, lastSeen,
            recentDeviceSerial, recentDeviceName, recentDeviceConnection
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        mac = container.lenientString(.mac)
        ip = container.lenientString(.ip)
        ip6 = container.lenientString(.ip6)
        description = container.lenientString(.description)
        user = container.lenientString(.user)
        os = container.lenientString(.os)
        manufacturer = container.lenientString(.manufacturer)
        vlan = container.lenientString(.vlan)
        ssid = container.lenientString(.ssid)
        status = container.lenientString(.status)
        firstSeen = (try? container.decodeIfPresent(Int.self, forKey: .firstSeen)) ?? nil
        lastSeen = (try? container.decodeIfPresent(Int.self, forKey: .lastSeen)) ?? nil
        recentDeviceSerial = container.lenientString(.recentDeviceSerial)
        recentDeviceName = container.lenientString(.recentDeviceName)
        recentDeviceConnection = container.lenientString(.recentDeviceConnection)
    }
}
