import Foundation

/// What one appliance reported about its uplinks in one poll: the input of `UplinkTracker`.
public struct UplinkReport: Sendable, Equatable {
    /// One WAN or cellular uplink as reported.
    public struct Uplink: Sendable, Equatable {
        /// `wan1`, `wan2`, `cellular`.
        public var interface: String
        /// `active`, `ready`, `failed`, `not connected`, `connecting`; anything else counts as not active.
        public var status: String?
        public var ip: String?
        public var publicIP: String?

        public init(interface: String, status: String?, ip: String?, publicIP: String?) {
            self.interface = interface
            self.status = status
            self.ip = ip
            self.publicIP = publicIP
        }
    }

    public var serial: String
    public var networkID: String?
    /// When the appliance last reported to the cloud; nil when the API did not say (or said it unreadably).
    public var lastReportedAt: Date?
    public var uplinks: [Uplink]

    public init(serial: String, networkID: String?, lastReportedAt: Date?, uplinks: [Uplink]) {
        self.serial = serial
        self.networkID = networkID
        self.lastReportedAt = lastReportedAt
        self.uplinks = uplinks
    }
}
