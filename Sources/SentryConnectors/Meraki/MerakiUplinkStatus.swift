/// One appliance's uplinks (`GET /organizations/{id}/appliance/uplink/statuses`).
public struct MerakiUplinkStatus: Sendable, Equatable, Decodable {
    public var networkID: String
    public var serial: String
    public var model: String?
    public var lastReportedAt: String?
    public var highAvailability: HighAvailability?
    public var uplinks: [Uplink]

    public struct HighAvailability: Sendable, Equatable, Decodable {
        public var enabled: Bool?
        /// `primary` or `spare`.
        public var role: String?
    }

    /// One WAN or cellular uplink. The cellular fields appear in the v1.42 example but are not documented
    /// fields now, so they are all optional.
    public struct Uplink: Sendable, Equatable, Decodable {
        /// `wan1`, `wan2`, `cellular`.
        public var interface: String
        /// `active`, `ready`, `failed`, `not connected`, `connecting`.
        public var status: String?
        public var ip: String?
        public var gateway: String?
        public var publicIP: String?
        public var primaryDNS: String?
        public var secondaryDNS: String?
        public var ipAssignedBy: String?
        public var provider: String?
        public var connectionType: String?
        public var signalType: String?
        public var apn: String?
        public var iccid: String?

        public var isCellular: Bool { interface.lowercased().hasPrefix("cellular") }

        enum CodingKeys: String, CodingKey {
            case interface, status, ip, gateway, publicIp, primaryDns, secondaryDns, ipAssignedBy, provider,
                connectionType, signalType, apn, iccid
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            interface = try container.decode(String.self, forKey: .interface)
            status = container.lenientString(.status)
            ip = container.lenientString(.ip)
            gateway = container.lenientString(.gateway)
            publicIP = container.lenientString(.publicIp)
            primaryDNS = container.lenientString(.primaryDns)
            secondaryDNS = container.lenientString(.secondaryDns)
            ipAssignedBy = container.lenientString(.ipAssignedBy)
            provider = container.lenientString(.provider)
            connectionType = container.lenientString(.connectionType)
            signalType = container.lenientString(.signalType)
            apn = container.lenientString(.apn)
            iccid = container.lenientString(.iccid)
        }
    }

    /// The uplink carrying traffic now, if any.
    public var activeUplink: Uplink? { uplinks.first { $0.status == "active" } }

    enum CodingKeys: String, CodingKey {
        case networkId, serial, model, lastReportedAt, highAvailability, uplinks
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        networkID = try container.decode(String.self, forKey: .networkId)
        serial = try container.decode(String.self, forKey: .serial)
        model = container.lenientString(.model)
        lastReportedAt = container.lenientString(.lastReportedAt)
        highAvailability = try? container.decodeIfPresent(HighAvailability.self, forKey: .highAvailability)
        uplinks = try container.decodeIfPresent([Uplink].self, forKey: .uplinks) ?? []
    }
}
