import SentryCore

extension MerakiSimulator {
    // MARK: Seed data

    /// An organisation in the shapes of the spec's examples: two appliance networks and a wireless-only one,
    /// eight devices (three pages at `perPage=3`), two MX uplink reports, and clients whose addresses share a
    /// prefix (10.0.0.1, 10.0.0.12, 10.0.0.123).
    static func seed(organizationID: String) -> State {
        var state = State()
        func network(_ id: String, _ name: String, _ products: [String]) -> JSONValue {
            [
                "id": .string(id), "organizationId": .string(organizationID), "name": .string(name),
                "productTypes": .array(products.map(JSONValue.string)), "timeZone": "America/Los_Angeles",
                "tags": ["tag1", "tag2"], "enrollmentString": .null,
                "url": .string("https://n1.meraki.com/\(name.replacingOccurrences(of: " ", with: "-"))/n/manage/nodes/list"),
                "notes": "", "isBoundToConfigTemplate": false,
            ]
        }
        state.networks = [
            network(mainOffice, "Main Office", ["appliance", "switch", "wireless"]),
            network(branch, "Branch", ["appliance", "wireless"]),
            network(warehouse, "Warehouse Wi-Fi", ["wireless"]),
        ]
        func device(_ serial: String, _ name: String, _ model: String, _ type: String, _ networkID: String, _ lanIP: String?) -> JSONValue {
            [
                "name": .string(name), "lat": .number(37.4180951010362), "lng": .number(-122.098531723022), "address": "1600 Pennsylvania Ave",
                "notes": "", "tags": ["recently-added"], "networkId": .string(networkID), "serial": .string(serial),
                "model": .string(model), "mac": .string("00:11:22:33:44:\(serial.suffix(2))"),
                "lanIp": lanIP.map(JSONValue.string) ?? .null, "firmware": .string("\(type)-18-107"),
                "productType": .string(type), "details": [],
            ]
        }
        state.devices = [
            device("Q234-ABCD-0001", "Main Office MX", "MX68C", "appliance", mainOffice, nil),
            device("Q234-ABCD-0002", "Main Office switch", "MS120-8", "switch", mainOffice, "10.0.0.2"),
            device("Q234-ABCD-0003", "My AP", "MR34", "wireless", mainOffice, "10.0.0.3"),
            device("Q234-ABCD-0004", "Lobby AP", "MR34", "wireless", mainOffice, "10.0.0.4"),
            device("Q234-ABCD-0005", "Branch MX", "MX67", "appliance", branch, nil),
            device("Q234-ABCD-0006", "Branch AP", "MR36", "wireless", branch, "10.1.0.6"),
            device("Q234-ABCD-0007", "Warehouse AP 1", "MR36", "wireless", warehouse, "10.2.0.7"),
            device("Q234-ABCD-0008", "Warehouse AP 2", "MR44", "wireless", warehouse, "10.2.0.8"),
        ]
        state.uplinks = [
            [
                "networkId": .string(mainOffice), "serial": "Q234-ABCD-0001", "model": "MX68C",
                "lastReportedAt": "2018-02-11T00:00:00Z", "highAvailability": ["enabled": false, "role": "primary"],
                "uplinks": [
                    [
                        "interface": "wan1", "status": "active", "ip": "1.2.3.4", "gateway": "1.2.3.5",
                        "publicIp": "123.123.123.1", "primaryDns": "8.8.8.8", "secondaryDns": "8.8.4.4", "ipAssignedBy": "static",
                    ],
                    [
                        "interface": "cellular", "status": "ready", "ip": "1.2.3.4", "provider": "at&t", "publicIp": "123.123.123.1",
                        "model": "integrated", "signalStat": ["rsrp": "-120", "rsrq": "-13"], "connectionType": "4g",
                        "apn": "internet", "gateway": "100.100.100.100", "dns1": "111.111.111.111", "dns2": "222.222.222.222",
                        "signalType": "4G", "iccid": "123456789",
                    ],
                ],
            ],
            [
                "networkId": .string(branch), "serial": "Q234-ABCD-0005", "model": "MX67",
                "lastReportedAt": "2018-02-11T00:00:00Z", "highAvailability": ["enabled": false, "role": "primary"],
                "uplinks": [
                    [
                        "interface": "wan1", "status": "active", "ip": "192.168.100.2", "gateway": "192.168.100.1",
                        "publicIp": "198.51.100.7", "primaryDns": "8.8.8.8", "secondaryDns": "8.8.4.4", "ipAssignedBy": "dhcp",
                    ],
                    [
                        "interface": "wan2", "status": "ready", "ip": "192.168.200.2", "gateway": "192.168.200.1",
                        "publicIp": "203.0.113.9", "primaryDns": "1.1.1.1", "secondaryDns": "1.0.0.1", "ipAssignedBy": "dhcp",
                    ],
                ],
            ],
        ]
        state.rules = [
            mainOffice: [
                [
                    "comment": "Allow TCP traffic to subnet with HTTP servers.", "policy": "allow", "protocol": "tcp",
                    "destPort": "443", "destCidr": "192.168.1.0/24", "srcPort": "Any", "srcCidr": "Any", "syslogEnabled": false,
                ]
            ],
            branch: [],
        ]
        seedCellular(&state)
        // Main Office logs its default rule, so a write that forgets to carry the setting shows.
        state.syslogDefaultRule = [mainOffice: true, branch: false]
        func client(_ id: String, _ mac: String, _ ip: String, _ description: String, _ os: String) -> JSONValue {
            [
                "id": .string(id), "mac": .string(mac), "ip": .string(ip), "ip6": .null, "description": .string(description),
                "firstSeen": 1_518_365_681, "lastSeen": 1_526_087_474, "manufacturer": "Apple", "os": .string(os),
                "user": "milesmeraki", "vlan": "100", "ssid": "My SSID", "switchport": .null,
                "wirelessCapabilities": "802.11b - 2.4 GHz", "smInstalled": false, "recentDeviceMac": "00:11:22:33:44:03",
                "status": "Online", "usage": ["sent": .number(138.0), "recv": .number(61.0)], "namedVlan": "My VLAN",
                "recentDeviceSerial": "Q234-ABCD-0003", "recentDeviceName": "My AP", "recentDeviceConnection": "Wireless",
                "notes": .null, "ip6Local": .null, "groupPolicy8021x": .null, "pskGroup": .null,
            ]
        }
        state.clients = [
            mainOffice: [
                client("k74272e", "22:33:44:55:66:77", "10.0.0.12", "Miles's phone", "iOS"),
                client("k74272f", "22:33:44:55:66:78", "10.0.0.1", "Reception desktop", "Windows 11"),
                client("k742730", "22:33:44:55:66:79", "10.0.0.123", "Printer", "Other"),
            ],
            branch: [],
            warehouse: [],
        ]
        state.policies = [
            "\(mainOffice)/k74272e": ["mac": "22:33:44:55:66:77", "devicePolicy": "Group policy", "groupPolicyId": "101"],
            "\(mainOffice)/k74272f": ["mac": "22:33:44:55:66:78", "devicePolicy": "Normal"],
            "\(mainOffice)/k742730": ["mac": "22:33:44:55:66:79", "devicePolicy": "Normal"],
        ]
        return state
    }
}
