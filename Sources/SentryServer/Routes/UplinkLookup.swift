import Foundation
import SentryConnectors
import SentryCore

/// Where `/sentry uplinks` reads appliance uplinks from.
public protocol UplinkLookup: Sendable {
    func uplinkRows() async throws -> [UplinkRow]
}

/// Uplink statuses joined with network and device names from the Meraki Dashboard API.
public struct MerakiUplinkLookup: UplinkLookup {
    let client: MerakiClient

    public init(client: MerakiClient) {
        self.client = client
    }

    public func uplinkRows() async throws -> [UplinkRow] {
        async let networks = client.networks()
        async let devices = client.devices()
        let statuses = try await client.applianceUplinkStatuses()
        let networkNames = Dictionary(try await networks.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let deviceNames = Dictionary(try await devices.map { ($0.serial, $0) }, uniquingKeysWith: { first, _ in first })
        return statuses.map { status in
            UplinkRow(
                UplinkReport(status), networkName: networkNames[status.networkID], deviceName: deviceNames[status.serial]?.name,
                model: status.model ?? deviceNames[status.serial]?.model)
        }
    }
}
