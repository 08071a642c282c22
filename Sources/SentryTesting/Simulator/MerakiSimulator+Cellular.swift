import Foundation
import Hummingbird
import SentryCore

/// Cellular failover rules and policy objects, with the real list semantics: a PUT replaces the whole list, a GET
/// ends with the default rule, and a default rule sent back is refused.
extension MerakiSimulator {
    /// A network's cellular failover rules as stored: without the default rule.
    public func cellularRules(networkID: String) -> [JSONValue] {
        state.current.cellularRules[networkID] ?? []
    }

    /// Changes a network's cellular rules directly, as another admin in the dashboard would.
    public func editCellularRules(networkID: String, _ edit: (inout [JSONValue]) -> Void) {
        state.withLock { state in
            var rules = state.cellularRules[networkID] ?? []
            edit(&rules)
            state.cellularRules[networkID] = rules
        }
    }

    /// Changes the organisation's policy objects and groups, as an admin would.
    public func editPolicyObjects(_ edit: (inout [JSONValue], inout [JSONValue]) -> Void) {
        state.withLock { edit(&$0.policyObjects, &$0.policyObjectGroups) }
    }

    func cellularRules(_ method: String, networkID: String, body: JSONValue?, dropRule: Bool) -> Response {
        guard state.current.networks.contains(where: { $0["id"]?.stringValue == networkID }) else {
            return Self.errors(404, ["Network not found"])
        }
        guard let stored = state.current.cellularRules[networkID] else {
            return Self.errors(404, ["This network has no appliance (MX): appliance firewall settings are not available"])
        }
        switch method {
        case "GET":
            return Self.json(["rules": .array(stored + [Self.defaultRule(syslogEnabled: false)])])
        case "PUT":
            guard let object = body?.objectValue else { return Self.errors(400, ["Request body must be a JSON object"]) }
            var rules: [JSONValue]
            switch Self.putRules(object, stored: stored) {
            case .success(let list): rules = list
            case .failure(let problem): return Self.errors(400, [problem.message])
            }
            if let unknown = object.keys.first(where: { $0 != "rules" }) {
                return Self.errors(400, ["Unknown parameter '\(unknown)'"])
            }
            if dropRule, !rules.isEmpty { rules.removeLast() }
            let kept = rules
            state.withLock { $0.cellularRules[networkID] = kept }
            return Self.json(["rules": .array(kept + [Self.defaultRule(syslogEnabled: false)])])
        default:
            return Self.errors(405, ["Method not allowed"])
        }
    }

    /// Main Office keeps the spec's example cellular rule (another admin's); Branch has none. Policy objects follow
    /// the spec's example, with a "Business devices" group of two CIDR objects.
    static func seedCellular(_ state: inout State) {
        state.cellularRules = [
            mainOffice: [
                [
                    "comment": "Allow TCP traffic to subnet with HTTP servers.", "policy": "allow", "protocol": "tcp",
                    "destPort": "443", "destCidr": "192.168.1.0/24", "srcPort": "Any", "srcCidr": "Any", "syslogEnabled": false,
                ]
            ],
            branch: [],
        ]
        func object(_ id: String, _ name: String, _ cidr: String, groups: [JSONValue]) -> JSONValue {
            [
                "id": .string(id), "name": .string(name), "category": "network", "type": "cidr", "cidr": .string(cidr),
                "created_at": "2018-05-12T00:00:00Z", "updated_at": "2018-05-12T00:00:00Z", "groupIds": .array(groups), "networkIds": [],
            ]
        }
        state.policyObjects = [
            object("1234", "Web Servers - Datacenter 10", "10.0.0.0/24", groups: []),
            object("1235", "Business laptops", "10.20.0.0/24", groups: ["8001"]),
            object("1236", "POS terminals", "10.30.5.0/28", groups: ["8001"]),
        ]
        state.policyObjectGroups = [
            [
                "id": "8001", "name": "Business devices", "category": "NetworkObjectGroup", "created_at": "2018-05-12T00:00:00Z",
                "updated_at": "2018-05-12T00:00:00Z", "objectIds": ["1235", "1236"], "networkIds": [],
            ]
        ]
    }
}
