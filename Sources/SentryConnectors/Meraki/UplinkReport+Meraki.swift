import SentryCore

extension UplinkReport {
    /// An appliance's uplinks as the API reported them. An unreadable `lastReportedAt` becomes nil, which the
    /// tracker treats as not fresh.
    public init(_ status: MerakiUplinkStatus) {
        self.init(
            serial: status.serial, networkID: status.networkID, lastReportedAt: status.lastReportedAt.flatMap(Timestamp.parseISO8601),
            uplinks: status.uplinks.map { Uplink(interface: $0.interface, status: $0.status, ip: $0.ip, publicIP: $0.publicIP) })
    }
}
