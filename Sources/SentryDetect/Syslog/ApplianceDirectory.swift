import SentryCore

/// Maps the device name of an MX syslog line to the appliance's serial and network (the Dashboard, or a test's table).
public protocol ApplianceDirectory: Sendable {
    func appliance(named name: String) async -> DeviceNameIndex.Lookup
}

/// Where an `ApplianceDirectory` reads the organisation's appliances from (the Dashboard API, or a test's list).
public protocol ApplianceInventory: Sendable {
    /// Every appliance of the organisation; throws when the list could not be read.
    func appliances() async throws -> [DeviceNameIndex.Appliance]
}
