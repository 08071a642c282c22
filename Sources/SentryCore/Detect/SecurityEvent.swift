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
    public var id: String {
        get { eventID.text }
        set { eventID = EventID(newValue) }
    }
    /// `id`, kept in place when it is short ASCII (as audit ids are).
    public var eventID: EventID
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
    /// The appliance's fields (uplink changes and syslog lines), kept out of line and nil when all are: audit events,
    /// most of a replay, are then little more than half the size to move and hold six fewer references to count.
    private var device: Device?

    public var networkID: String? {
        get { device?.fields.networkID }
        set { changeDevice { $0.networkID = newValue } }
    }
    public var serial: String? {
        get { device?.fields.serial }
        set { changeDevice { $0.serial = newValue } }
    }
    /// Uplink interface (`wan1`, `wan2`, `cellular`).
    public var interface: String? {
        get { device?.fields.interface }
        set { changeDevice { $0.interface = newValue } }
    }
    public var previousPublicIP: String? {
        get { device?.fields.previousPublicIP }
        set { changeDevice { $0.previousPublicIP = newValue } }
    }
    public var publicIP: String? {
        get { device?.fields.publicIP }
        set { changeDevice { $0.publicIP = newValue } }
    }
    /// Free text for the alert (a syslog line, a status summary).
    public var detail: String? {
        get { device?.fields.detail }
        set { changeDevice { $0.detail = newValue } }
    }
    /// The name an MX syslog line gave its appliance (MX lines carry the name, not the serial); kept once `serial`
    /// has been mapped from it through the organisation's device list.
    public var deviceName: String? {
        get { device?.fields.deviceName }
        set { changeDevice { $0.deviceName = newValue } }
    }

    public init(
        source: Source, id: String, at: Date, action: String, userID: String? = nil, ip: String? = nil, fileID: String? = nil,
        fileName: String? = nil, channelID: String? = nil, reason: String? = nil, networkID: String? = nil, serial: String? = nil,
        interface: String? = nil, previousPublicIP: String? = nil, publicIP: String? = nil, detail: String? = nil, deviceName: String? = nil
    ) {
        self.source = source
        eventID = EventID(id)
        self.at = at
        self.action = action
        self.userID = userID
        self.ip = ip
        self.fileID = fileID
        self.fileName = fileName
        self.channelID = channelID
        self.reason = reason
        device = Device(
            DeviceFields(
                networkID: networkID, serial: serial, interface: interface, previousPublicIP: previousPublicIP, publicIP: publicIP,
                detail: detail, deviceName: deviceName))
    }

    /// An event without the appliance's fields, its id made already (the audit scanner's).
    init(
        source: Source, eventID: EventID, at: Date, action: String, userID: String?, ip: String?, fileID: String?, fileName: String?,
        channelID: String?, reason: String?
    ) {
        self.source = source
        self.eventID = eventID
        self.at = at
        self.action = action
        self.userID = userID
        self.ip = ip
        self.fileID = fileID
        self.fileName = fileName
        self.channelID = channelID
        self.reason = reason
        device = nil
    }

    /// The appliance's fields of an event.
    struct DeviceFields: Equatable, Sendable {
        var networkID: String?
        var serial: String?
        var interface: String?
        var previousPublicIP: String?
        var publicIP: String?
        var detail: String?
        var deviceName: String?

        var isEmpty: Bool {
            networkID == nil && serial == nil && interface == nil && previousPublicIP == nil && publicIP == nil && detail == nil
                && deviceName == nil
        }
    }

    /// Immutable, so copies of an event share it safely; a change makes a new one.
    final class Device: Sendable {
        let fields: DeviceFields

        /// Nil when none of the fields is set.
        init?(_ fields: DeviceFields) {
            guard !fields.isEmpty else { return nil }
            self.fields = fields
        }
    }

    private mutating func changeDevice(_ change: (inout DeviceFields) -> Void) {
        var fields = device?.fields ?? DeviceFields()
        change(&fields)
        device = Device(fields)
    }

    public static func == (lhs: SecurityEvent, rhs: SecurityEvent) -> Bool {
        lhs.source == rhs.source && lhs.eventID == rhs.eventID && lhs.at == rhs.at && lhs.action == rhs.action && lhs.userID == rhs.userID
            && lhs.ip == rhs.ip && lhs.fileID == rhs.fileID && lhs.fileName == rhs.fileName && lhs.channelID == rhs.channelID
            && lhs.reason == rhs.reason && lhs.device?.fields == rhs.device?.fields
    }

    /// The same keys, in the same order, as the coding the compiler wrote when every field was stored.
    enum CodingKeys: String, CodingKey {
        case source, id, at, action, userID, ip, fileID, fileName, channelID, reason, networkID, serial, interface, previousPublicIP,
            publicIP, detail, deviceName
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            source: try container.decode(Source.self, forKey: .source), id: try container.decode(String.self, forKey: .id),
            at: try container.decode(Date.self, forKey: .at), action: try container.decode(String.self, forKey: .action),
            userID: try container.decodeIfPresent(String.self, forKey: .userID), ip: try container.decodeIfPresent(String.self, forKey: .ip),
            fileID: try container.decodeIfPresent(String.self, forKey: .fileID),
            fileName: try container.decodeIfPresent(String.self, forKey: .fileName),
            channelID: try container.decodeIfPresent(String.self, forKey: .channelID),
            reason: try container.decodeIfPresent(String.self, forKey: .reason),
            networkID: try container.decodeIfPresent(String.self, forKey: .networkID),
            serial: try container.decodeIfPresent(String.self, forKey: .serial),
            interface: try container.decodeIfPresent(String.self, forKey: .interface),
            previousPublicIP: try container.decodeIfPresent(String.self, forKey: .previousPublicIP),
            publicIP: try container.decodeIfPresent(String.self, forKey: .publicIP),
            detail: try container.decodeIfPresent(String.self, forKey: .detail),
            deviceName: try container.decodeIfPresent(String.self, forKey: .deviceName))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(source, forKey: .source)
        try container.encode(id, forKey: .id)
        try container.encode(at, forKey: .at)
        try container.encode(action, forKey: .action)
        try container.encodeIfPresent(userID, forKey: .userID)
        try container.encodeIfPresent(ip, forKey: .ip)
        try container.encodeIfPresent(fileID, forKey: .fileID)
        try container.encodeIfPresent(fileName, forKey: .fileName)
        try container.encodeIfPresent(channelID, forKey: .channelID)
        try container.encodeIfPresent(reason, forKey: .reason)
        try container.encodeIfPresent(networkID, forKey: .networkID)
        try container.encodeIfPresent(serial, forKey: .serial)
        try container.encodeIfPresent(interface, forKey: .interface)
        try container.encodeIfPresent(previousPublicIP, forKey: .previousPublicIP)
        try container.encodeIfPresent(publicIP, forKey: .publicIP)
        try container.encodeIfPresent(detail, forKey: .detail)
        try container.encodeIfPresent(deviceName, forKey: .deviceName)
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
