import SentryConnectors
import SentryCore

extension MerakiClient: UplinkStatusSource {
    /// `GET /organizations/{id}/appliance/uplink/statuses`, every page.
    public func uplinkReports() async throws -> [UplinkReport] {
        try await applianceUplinkStatuses().map(UplinkReport.init)
    }
}
