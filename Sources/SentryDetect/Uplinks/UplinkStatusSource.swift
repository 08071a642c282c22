import SentryCore

/// Where the uplink collector reads appliance uplink statuses from (the Meraki Dashboard API, or a test's script).
public protocol UplinkStatusSource: Sendable {
    /// Every appliance's uplinks now. Throws when the statuses could not be read; the poll then changes nothing.
    func uplinkReports() async throws -> [UplinkReport]
}
