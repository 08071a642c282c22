/// A device of the organisation (`GET /organizations/{id}/devices`).
public struct MerakiDevice: Sendable, Equatable, Decodable {
    public var serial: String
    public var name: String?
    public var model: String?
    public var networkID: String?
    public var mac: String?
    public var lanIP: String?
    public var firmware: String?
    /// `appliance`, `switch`, `wireless`, `camera`, …
    public var productType: String?
    public var tags: [String]
    public var address: String?
    public var notes: String?

    enum CodingKeys: String, CodingKey {
        case serial, name, model, networkId, mac, lanIp, firmware, productType, tags, address, notes
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        serial = try container.decode(String.self, forKey: .serial)
        name = container.lenientString(.name)
        model = container.lenientString(.model)
        networkID = container.lenientString(.networkId)
        mac = container.lenientString(.mac)
        lanIP = container.lenientString(.lanIp)
        firmware = container.lenientString(.firmware)
        productType = container.lenientString(.productType)
        tags = (try? container.decodeIfPresent([String].self, forKey: .tags)) ?? []
        address = container.lenientString(.address)
        notes = container.lenientString(.notes)
    }
}
