import SentryCore

/// A policy object of the organisation (`GET /organizations/{id}/policyObjects`).
public struct MerakiPolicyObject: Sendable, Equatable, Decodable {
    public var id: String
    public var name: String
    /// `cidr`, `fqdn`, `adaptivePolicyIpv4Cidr`, or the deprecated `ipAndMask`.
    public var type: String?
    public var cidr: String?
    public var ip: String?
    public var mask: String?
    public var fqdn: String?
    public var groupIDs: [String]

    public init(
        id: String, name: String, type: String?, cidr: String? = nil, ip: String? = nil, mask: String? = nil, fqdn: String? = nil,
        groupIDs: [String] = []
    ) {
        self.id = id
        self.name = name
        self.type = type
        self.cidr = cidr
        self.ip = ip
        self.mask = mask
        self.fqdn = fqdn
        self.groupIDs = groupIDs
    }

    enum CodingKeys: String, CodingKey { case id, name, type, cidr, ip, mask, fqdn, groupIds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try MerakiFlexibleID.decode(c, .id)
        name = try c.decode(String.self, forKey: .name)
        type = try c.decodeIfPresent(String.self, forKey: .type)
        cidr = try c.decodeIfPresent(String.self, forKey: .cidr)
        ip = try c.decodeIfPresent(String.self, forKey: .ip)
        mask = try c.decodeIfPresent(String.self, forKey: .mask)
        fqdn = try c.decodeIfPresent(String.self, forKey: .fqdn)
        groupIDs = try MerakiFlexibleID.decodeList(c, .groupIds)
    }
}

/// A policy-object group (`GET /organizations/{id}/policyObjects/groups`).
public struct MerakiPolicyObjectGroup: Sendable, Equatable, Decodable {
    public var id: String
    public var name: String
    public var objectIDs: [String]

    public init(id: String, name: String, objectIDs: [String]) {
        self.id = id
        self.name = name
        self.objectIDs = objectIDs
    }

    enum CodingKeys: String, CodingKey { case id, name, objectIds }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try MerakiFlexibleID.decode(c, .id)
        name = try c.decode(String.self, forKey: .name)
        objectIDs = try MerakiFlexibleID.decodeList(c, .objectIds)
    }
}

/// Meraki writes these ids as strings in answers and as integers in requests; either is read.
enum MerakiFlexibleID {
    static func decode<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> String {
        if let text = try? c.decode(String.self, forKey: key) { return text }
        return String(try c.decode(Int.self, forKey: key))
    }

    static func decodeList<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> [String] {
        if let texts = try? c.decodeIfPresent([String].self, forKey: key) { return texts }
        return (try c.decodeIfPresent([Int].self, forKey: key) ?? []).map(String.init)
    }
}

extension MerakiClient {
    public func policyObjects() async throws -> [MerakiPolicyObject] {
        try await getAllPages(
            "getOrganizationPolicyObjects", path: "/organizations/\(Self.segment(organizationID))/policyObjects", query: [("perPage", "5000")])
    }

    public func policyObjectGroups() async throws -> [MerakiPolicyObjectGroup] {
        try await getAllPages(
            "getOrganizationPolicyObjectsGroups", path: "/organizations/\(Self.segment(organizationID))/policyObjects/groups",
            query: [("perPage", "1000")])
    }
}

/// Turns policy-object group names into the source CIDRs of their objects.
public enum MerakiPolicyObjectResolver {
    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Each name's CIDRs, in object order. A missing group, an empty one, or an object that cannot be a source
    /// (an FQDN) is refused with the group's name, so nobody is silently left out or let in.
    public static func resolve(names: [String], groups: [MerakiPolicyObjectGroup], objects: [MerakiPolicyObject]) throws(Problem) -> [String:
        [String]]
    {
        let byID = Dictionary(objects.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var resolved: [String: [String]] = [:]
        for name in names {
            let matches = groups.filter { $0.name == name }
            guard let group = matches.first else {
                let near = groups.first { $0.name.lowercased() == name.lowercased() }.map { " (there is '\($0.name)')" } ?? ""
                throw Problem(description: "the organisation has no policy-object group named '\(name)'\(near)")
            }
            // Membership is recorded on both sides; either may be the one an admin edited.
            var members = group.objectIDs.compactMap { byID[$0] }
            for object in objects where object.groupIDs.contains(group.id) && !members.contains(object) { members.append(object) }
            var cidrs: [String] = []
            for object in members {
                let text: String?
                switch object.type {
                case "cidr", "adaptivePolicyIpv4Cidr", nil: text = object.cidr
                case "ipAndMask": text = object.ip.flatMap { ip in object.mask.flatMap { prefixLength($0) }.map { "\(ip)/\($0)" } }
                case "fqdn":
                    throw Problem(description: "group '\(name)' holds '\(object.name)', an FQDN: cellular rules take source addresses only")
                default: text = nil
                }
                guard let text, let cidr = try? ApprovedOnlySettings.sourceCIDR(text) else {
                    throw Problem(description: "group '\(name)' holds '\(object.name)', which is not a usable source address or CIDR")
                }
                if !cidrs.contains(cidr) { cidrs.append(cidr) }
            }
            guard !cidrs.isEmpty else { throw Problem(description: "policy-object group '\(name)' has no addresses: it would approve no device") }
            resolved[name] = cidrs
        }
        return resolved
    }

    /// `255.255.255.0` → 24; nil when the mask is not contiguous.
    static func prefixLength(_ mask: String) -> Int? {
        let parts = mask.split(separator: ".").compactMap { UInt8($0) }
        guard parts.count == 4 else { return nil }
        let value = parts.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let ones = value.leadingZeroBitCount == 0 ? (~value).leadingZeroBitCount : 0
        return (value << ones) == 0 || ones == 32 ? ones : nil
    }
}
