extension MerakiClient {
    /// Every network of the organisation. `perPage` is clamped to what the API takes (3 to 100 000).
    public func networks(perPage: Int = 1000) async throws -> [MerakiNetwork] {
        try await getAllPages(
            "getOrganizationNetworks", path: "/organizations/\(Self.segment(organizationID))/networks",
            query: [("perPage", String(min(max(perPage, 3), 100_000)))])
    }

    /// Every device of the organisation, or only those of `productTypes` (`appliance`, `switch`, `wireless`, …).
    /// `perPage` is clamped to 3…1000.
    public func devices(productTypes: [String] = [], perPage: Int = 1000) async throws -> [MerakiDevice] {
        try await getAllPages(
            "getOrganizationDevices", path: "/organizations/\(Self.segment(organizationID))/devices",
            query: [("perPage", String(min(max(perPage, 3), 1000)))] + productTypes.map { ("productTypes[]", $0) })
    }

    /// The uplinks of every appliance in the organisation. `perPage` is clamped to 3…1000.
    public func applianceUplinkStatuses(perPage: Int = 1000) async throws -> [MerakiUplinkStatus] {
        try await getAllPages(
            "getOrganizationApplianceUplinkStatuses",
            path: "/organizations/\(Self.segment(organizationID))/appliance/uplink/statuses",
            query: [("perPage", String(min(max(perPage, 3), 1000)))])
    }
}
