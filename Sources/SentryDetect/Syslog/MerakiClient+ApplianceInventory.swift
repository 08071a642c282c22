import SentryConnectors
import SentryCore

extension MerakiClient: ApplianceInventory {
    /// `GET /organizations/{id}/devices?productTypes[]=appliance`, every page.
    public func appliances() async throws -> [DeviceNameIndex.Appliance] {
        try await devices(productTypes: ["appliance"]).map { DeviceNameIndex.Appliance(serial: $0.serial, networkID: $0.networkID, name: $0.name) }
    }
}
