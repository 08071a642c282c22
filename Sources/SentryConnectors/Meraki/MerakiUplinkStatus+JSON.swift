import SentryCore

extension MerakiUplinkStatus {
    /// Reads statuses from JSON already parsed, with the same rules as the `Decodable` conformance (network id,
    /// serial and each uplink's interface required, other fields strings or numbers): about ten times faster than
    /// `JSONDecoder`, which a replay of a year of polls feels.
    public init?(json: JSONValue) {
        guard case .object(let object) = json, let networkID = object["networkId"]?.stringValue,
            let serial = object["serial"]?.stringValue
        else { return nil }
        var uplinks: [Uplink] = []
        switch object["uplinks"] {
        case nil, .null?:
            break
        case .array(let items)?:
            for item in items {
                guard let uplink = Uplink(json: item) else { return nil }
                uplinks.append(uplink)
            }
        default:
            return nil
        }
        var highAvailability: HighAvailability?
        // Like `try? decodeIfPresent`: a field of the wrong type loses the whole object, not just the field.
        if case .object(let ha)? = object["highAvailability"] {
            let enabled = ha["enabled"]
            let role = ha["role"]
            let enabledOK = enabled == nil || enabled == .null || enabled?.boolValue != nil
            let roleOK = role == nil || role == .null || role?.stringValue != nil
            if enabledOK && roleOK { highAvailability = HighAvailability(enabled: enabled?.boolValue, role: role?.stringValue) }
        }
        self.networkID = networkID
        self.serial = serial
        self.model = Self.lenient(object["model"])
        self.lastReportedAt = Self.lenient(object["lastReportedAt"])
        self.highAvailability = highAvailability
        self.uplinks = uplinks
    }

    /// A list of statuses (an organisation's poll), or one; nil when the bytes are neither.
    public static func list(from bytes: some Collection<UInt8>) -> [MerakiUplinkStatus]? {
        guard let json = JSONValue.parse(bytes) else { return nil }
        if case .array(let items) = json {
            var statuses: [MerakiUplinkStatus] = []
            statuses.reserveCapacity(items.count)
            for item in items {
                guard let status = MerakiUplinkStatus(json: item) else { return nil }
                statuses.append(status)
            }
            return statuses
        }
        return MerakiUplinkStatus(json: json).map { [$0] }
    }

    /// A string, or a number written as text, as `lenientString` decodes them.
    static func lenient(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: return text
        case .number(let number)?:
            if number.rounded() == number, abs(number) < 9.2e18 { return String(Int(number)) }
            return String(number)
        default: return nil
        }
    }
}

extension MerakiUplinkStatus.Uplink {
    init?(json: JSONValue) {
        guard case .object(let object) = json, let interface = object["interface"]?.stringValue else { return nil }
        let lenient = MerakiUplinkStatus.lenient
        self.interface = interface
        status = lenient(object["status"])
        ip = lenient(object["ip"])
        gateway = lenient(object["gateway"])
        publicIP = lenient(object["publicIp"])
        primaryDNS = lenient(object["primaryDns"])
        secondaryDNS = lenient(object["secondaryDns"])
        ipAssignedBy = lenient(object["ipAssignedBy"])
        provider = lenient(object["provider"])
        connectionType = lenient(object["connectionType"])
        signalType = lenient(object["signalType"])
        apn = lenient(object["apn"])
        iccid = lenient(object["iccid"])
    }
}
