/// A network of the organisation (`GET /organizations/{id}/networks`).
public struct MerakiNetwork: Sendable, Equatable, Decodable {
    public var id: String
    public var organizationID: String?
    public var name: String
    /// `appliance`, `switch`, `wireless`, `cellularGateway`, …
    public var productTypes: [String]
    public var timeZone: String?
    public var tags: [String]
    public var url: String?
    public var notes: String?
    public var isBoundToConfigTemplate: Bool?

    /// Only networks with an appliance (MX) have the L3 firewall; the API answers 404 for the others.
    public var hasAppliance: Bool { productTypes.contains("appliance") }

    public init(id: String, name: String, productTypes: [String], organizationID: String? = nil, tags: [String] = []) {
        self.id = id
        self.name = name
        self.productTypes = productTypes
        self.organizationID = organizationID
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey {
        case id, organizationId, name, productTypes, timeZone, tags, url, notes, isBoundToConfigTemplate
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        organizationID = container.lenientString(.organizationId)
        name = container.lenientString(.name) ?? ""
        productTypes = (try? container.decodeIfPresent([String].self, forKey: .productTypes)) ?? []
        timeZone = container.lenientString(.timeZone)
        tags = (try? container.decodeIfPresent([String].self, forKey: .tags)) ?? []
        url = container.lenientString(.url)
        notes = container.lenientString(.notes)
        isBoundToConfigTemplate = try? container.decodeIfPresent(Bool.self, forKey: .isBoundToConfigTemplate)
    }
}

extension KeyedDecodingContainer {
    /// A string field that may be missing, null, or sent as a number (Meraki's examples vary, e.g. `vlan`).
    func lenientString(_ key: Key) -> String? {
        if let text = try? decodeIfPresent(String.self, forKey: key) { return text }
        if let number = try? decodeIfPresent(Int.self, forKey: key) { return String(number) }
        if let number = try? decodeIfPresent(Double.self, forKey: key) { return String(number) }
        return nil
    }
}
