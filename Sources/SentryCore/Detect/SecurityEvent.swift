import Foundation

/// One normalised event from a collector (Slack audit log entry, Meraki uplink change, MX syslog line):
/// what the rule engine reads.
public struct SecurityEvent: Codable, Equatable, Sendable {
    public enum Source: String, Codable, Sendable, CaseIterable {
        case slackAudit = "slack-audit"
        case merakiUplinks = "meraki-uplinks"
        case syslog
    }

    public var source: Source
    /// Unique within its source (the audit entry id, a syslog line's hash, an uplink change's key).
    public var id: String
    public var at: Date
    /// Slack audit action (`file_downloaded`, `user_login_failed`, `anomaly`, …) or an uplink change
    /// (`uplink_public_ip_changed`, `uplink_failover`, `uplink_recovered`, `cellular_up`, `cellular_down`).
    public var action: String
    public var userID: String?
    /// Source IP of the actor (Slack `context.ip_address`).
    public var ip: String?
    public var fileID: String?
    public var fileName: String?
    public var channelID: String?
    /// Anomaly reasons and similar qualifiers, comma separated.
    public var reason: String?
    public var networkID: String?
    public var serial: String?
    /// Uplink interface (`wan1`, `wan2`, `cellular`).
    public var interface: String?
    public var previousPublicIP: String?
    public var publicIP: String?
    /// Free text for the alert (a syslog line, a status summary).
    public var detail: String?
    /// The name an MX syslog line gave its appliance (MX lines carry the name, not the serial); kept once `serial`
    /// has been mapped from it through the organisation's device list.
    public var deviceName: String?

    public init(
        source: Source, id: String, at: Date, action: String, userID: String? = nil, ip: String? = nil, fileID: String? = nil,
        fileName: String? = nil, channelID: String? = nil, reason: String? = nil, networkID: String? = nil, serial: String? = nil,
        interface: String? = nil, previousPublicIP: String? = nil, publicIP: String? = nil, detail: String? = nil, deviceName: String? = nil
    ) {
        self.source = source
        self.id = id
        self.at = at
        self.action = action
        self.userID = userID
        self.ip = ip
        self.fileID = fileID
        self.fileName = fileName
        self.channelID = channelID
        self.reason = reason
        self.networkID = networkID
        self.serial = serial
        self.interface = interface
        self.previousPublicIP = previousPublicIP
        self.publicIP = publicIP
        self.detail = detail
        self.deviceName = deviceName
    }
}

/// The last known state of one appliance uplink, kept between polls.
public struct UplinkSnapshot: Codable, Equatable, Sendable {
    public var serial: String
    public var interface: String
    public var networkID: String?
    public var status: String
    public var ip: String?
    public var publicIP: String?
    public var reportedAt: Date?
    /// Whether this uplink carried the device's traffic the last time one of its uplinks was active, so a move
    /// seen only after a moment with none active (wan1 → nothing → wan2) is still told; nil in snapshots saved
    /// before this was kept.
    public var carried: Bool?

    public init(
        serial: String, interface: String, networkID: String?, status: String, ip: String?, publicIP: String?, reportedAt: Date?,
        carried: Bool? = nil
    ) {
        self.serial = serial
        self.interface = interface
        self.networkID = networkID
        self.status = status
        self.ip = ip
        self.publicIP = publicIP
        self.reportedAt = reportedAt
        self.carried = carried
    }

    public var key: String { "\(serial)/\(interface)" }
}
