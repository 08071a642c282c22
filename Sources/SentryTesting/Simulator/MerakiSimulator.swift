import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SentryCore

/// A local stand-in for the Meraki Dashboard API v1 (one organisation under `/api/v1`), answering in the shapes
/// of `specs/meraki` (spec examples and observed samples): networks, devices, appliance uplinks, appliance L3
/// and cellular failover rules, policy objects and groups, clients and their policies. Used by the tests and the demo; it records every request it gets.
public final class MerakiSimulator: Sendable {
    /// A request as the simulator saw it.
    public struct Recorded: Sendable, Equatable {
        public var method: String
        /// Below `/api/v1`, without the query (`/networks/N_24329156/appliance/firewall/l3FirewallRules`).
        public var path: String
        public var query: [String: String]
        /// Names lowercased.
        public var headers: [String: String]
        /// The authority it was sent to (`127.0.0.1:PORT`).
        public var host: String?
        public var body: JSONValue?

        public var authorization: String? { headers["authorization"] }
    }

    public enum Fault: Sendable, Equatable {
        /// HTTP 429 with Retry-After and Meraki's body; nothing done.
        case rateLimited(retryAfter: Int)
        /// An HTTP status with an `errors` body; nothing done.
        case status(Int)
        /// Does the work, then answers 500: the caller cannot know it succeeded.
        case lostAnswer
        /// Answers a redirect to `location` (absolute or relative); nothing done.
        case redirect(status: Int, location: String)
        /// An L3 PUT: stores the rules but loses the last one, and answers what it kept.
        case dropRuleInAnswer
        /// Does the work, then holds the answer this long (a caller killed meanwhile never learns of it).
        case stall(seconds: Int)
    }

    /// The organisation's networks; the ids and names follow the spec's examples.
    public static let mainOffice = "N_24329156"
    public static let branch = "N_24329157"
    /// Wireless only: no appliance, so no L3 firewall.
    public static let warehouse = "N_24329158"

    /// The rule the API appends to every L3 list it returns (`samples/...after-empty-put.observed.json`).
    static func defaultRule(syslogEnabled: Bool) -> JSONValue {
        [
            "comment": "Default rule", "destCidr": "Any", "destPort": "Any", "policy": "allow", "protocol": "Any",
            "srcCidr": "Any", "srcPort": "Any", "syslogEnabled": .bool(syslogEnabled),
        ]
    }

    struct State {
        var requests: [Recorded] = []
        var faults: [String: [Fault]] = [:]
        var networks: [JSONValue] = []
        var devices: [JSONValue] = []
        var uplinks: [JSONValue] = []
        /// Appliance networks only; stored without the default rule.
        var rules: [String: [JSONValue]] = [:]
        var syslogDefaultRule: [String: Bool] = [:]
        var clients: [String: [JSONValue]] = [:]
        /// Keyed by `network/client`.
        var policies: [String: JSONValue] = [:]
        /// Appliance networks only; cellular failover rules stored without the default rule.
        var cellularRules: [String: [JSONValue]] = [:]
        var policyObjects: [JSONValue] = []
        var policyObjectGroups: [JSONValue] = []
    }

    public let apiKey: String
    public let organizationID: String
    let state: Locked<State>

    public init(apiKey: String, organizationID: String = "2930418") {
        self.apiKey = apiKey
        self.organizationID = organizationID
        self.state = Locked(Self.seed(organizationID: organizationID))
    }

    // MARK: Observing and steering

    public var requests: [Recorded] { state.current.requests }

    public func requests(path: String, method: String? = nil) -> [Recorded] {
        requests.filter { $0.path == path && (method == nil || $0.method == method) }
    }

    /// Queues faults answered to the next calls of a path (below `/api/v1`), in order; `method` nil matches any.
    public func inject(_ faults: [Fault], for path: String, method: String? = nil) {
        state.withLock { $0.faults[Self.faultKey(method, path), default: []] += faults }
    }

    /// A network's L3 rules as stored: without the default rule.
    public func l3Rules(networkID: String) -> [JSONValue] {
        state.current.rules[networkID] ?? []
    }

    public func syslogDefaultRule(networkID: String) -> Bool? {
        state.current.syslogDefaultRule[networkID]
    }

    /// Changes a network's rules directly, as another admin in the dashboard would.
    public func editRules(networkID: String, _ edit: (inout [JSONValue]) -> Void) {
        state.withLock { state in
            var rules = state.rules[networkID] ?? []
            edit(&rules)
            state.rules[networkID] = rules
        }
    }

    /// Changes the appliance uplink reports (`getOrganizationApplianceUplinkStatuses` items), as the appliances would.
    public func editUplinks(_ edit: (inout [JSONValue]) -> Void) {
        state.withLock { edit(&$0.uplinks) }
    }

    /// Changes the organisation's devices (`getOrganizationDevices` items), as an admin renaming one would.
    public func editDevices(_ edit: (inout [JSONValue]) -> Void) {
        state.withLock { edit(&$0.devices) }
    }

    /// A client's policy as stored (`{"mac", "devicePolicy", "groupPolicyId"}`).
    public func clientPolicy(networkID: String, clientID: String) -> JSONValue? {
        state.current.policies["\(networkID)/\(clientID)"]
    }

    // MARK: HTTP

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        for method in [HTTPRequest.Method.get, .put, .post, .delete] {
            router.on("/api/v1/**", method: method) { request, context in
                try await self.handle(request, segments: context.parameters.getCatchAll().map(String.init))
            }
        }
        return router
    }

    static func faultKey(_ method: String?, _ path: String) -> String {
        "\(method ?? "*") \(path)"
    }

    func nextFault(method: String, path: String) -> Fault? {
        state.withLock { state -> Fault? in
            for key in [Self.faultKey(method, path), Self.faultKey(nil, path)] {
                guard var queue = state.faults[key], !queue.isEmpty else { continue }
                let fault = queue.removeFirst()
                state.faults[key] = queue
                return fault
            }
            return nil
        }
    }

    func handle(_ request: Request, segments: [String]) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        let bytes = Array(buffer.readableBytesView)
        let path = "/" + segments.joined(separator: "/")
        var query: [String: String] = [:]
        // Keys as the API reads them: `productTypes%5B%5D` is `productTypes[]`.
        for (key, value) in request.uri.queryParameters { query[String(key).removingPercentEncoding ?? String(key)] = String(value) }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let method = request.method.rawValue
        let body = bytes.isEmpty ? nil : JSONValue.parse(bytes)
        state.withLock {
            $0.requests.append(
                Recorded(
                    method: method, path: path, query: query, headers: headers, host: request.head.authority, body: body))
        }
        // The spec declares both schemes; either is accepted.
        guard headers["authorization"] == "Bearer \(apiKey)" || headers["x-cisco-meraki-api-key"] == apiKey else {
            return Self.errors(401, ["Invalid API key"])
        }
        let fault = nextFault(method: method, path: path)
        switch fault {
        case .rateLimited(let seconds):
            return Response(
                status: .tooManyRequests, headers: [.retryAfter: "\(seconds)", .contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"errors":["API rate limit exceeded for organization"]}"#)))
        case .status(let code):
            return Self.errors(code, ["Simulated failure"])
        case .redirect(let code, let location):
            return Response(status: .init(code: code), headers: [.location: location])
        case .lostAnswer, .dropRuleInAnswer, .stall, nil:
            break
        }
        let origin = "http://\(request.head.authority ?? "127.0.0.1")/api/v1"
        let answer = perform(method, segments, query: query, body: body, dropRule: fault == .dropRuleInAnswer, origin: origin + path)
        if fault == .lostAnswer { return Response(status: .internalServerError) }
        if case .stall(let seconds) = fault { try? await Task.sleep(for: .seconds(seconds)) }
        return answer
    }

    // MARK: API

    func perform(_ method: String, _ segments: [String], query: [String: String], body: JSONValue?, dropRule: Bool, origin: String) -> Response {
        switch (method, segments.count, segments.first) {
        case ("GET", 3, "organizations") where segments[2] == "networks":
            guard segments[1] == organizationID else { return Self.errors(404, ["Organization not found"]) }
            return page(state.current.networks, key: "id", query: query, defaultPerPage: 1000, maxPerPage: 100_000, url: origin)
        case ("GET", 3, "organizations") where segments[2] == "devices":
            guard segments[1] == organizationID else { return Self.errors(404, ["Organization not found"]) }
            // `productTypes[]` filters by product type (one value here; the API takes several).
            let wanted = query["productTypes[]"]
            let devices = state.current.devices.filter { wanted == nil || $0["productType"]?.stringValue == wanted }
            return page(devices, key: "serial", query: query, defaultPerPage: 1000, maxPerPage: 1000, url: origin)
        case ("GET", 5, "organizations") where Array(segments[2...]) == ["appliance", "uplink", "statuses"]:
            guard segments[1] == organizationID else { return Self.errors(404, ["Organization not found"]) }
            return page(state.current.uplinks, key: "serial", query: query, defaultPerPage: 1000, maxPerPage: 1000, url: origin)
        case (_, 5, "networks") where Array(segments[2...]) == ["appliance", "firewall", "l3FirewallRules"]:
            return l3Rules(method, networkID: segments[1], body: body, dropRule: dropRule)
        case (_, 5, "networks") where Array(segments[2...]) == ["appliance", "firewall", "cellularFirewallRules"]:
            return cellularRules(method, networkID: segments[1], body: body, dropRule: dropRule)
        case ("GET", 3, "organizations") where segments[2] == "policyObjects":
            guard segments[1] == organizationID else { return Self.errors(404, ["Organization not found"]) }
            return page(state.current.policyObjects, key: "id", query: query, defaultPerPage: 5000, maxPerPage: 5000, url: origin)
        case ("GET", 4, "organizations") where segments[2] == "policyObjects" && segments[3] == "groups":
            guard segments[1] == organizationID else { return Self.errors(404, ["Organization not found"]) }
            return page(state.current.policyObjectGroups, key: "id", query: query, defaultPerPage: 1000, maxPerPage: 1000, url: origin)
        case ("GET", 3, "networks") where segments[2] == "clients":
            guard let clients = state.current.clients[segments[1]] else { return Self.errors(404, ["Network not found"]) }
            // The API's `ip` filter matches part of the address: 10.0.0.1 finds 10.0.0.12 too.
            let matching = clients.filter { client in
                guard let ip = query["ip"], !ip.isEmpty else { return true }
                return client["ip"]?.stringValue?.contains(ip) == true
            }
            return page(matching, key: "id", query: query, defaultPerPage: 10, maxPerPage: 5000, url: origin)
        case (_, 5, "networks") where segments[2] == "clients" && segments[4] == "policy":
            return clientPolicy(method, networkID: segments[1], clientID: segments[3], body: body)
        default:
            return Self.errors(404, ["Not found"])
        }
    }

    /// One page of a listing and its `Link` header (first, next when there is more, last), as Meraki pages:
    /// `startingAfter` is the key of the last item seen.
    func page(_ items: [JSONValue], key: String, query: [String: String], defaultPerPage: Int, maxPerPage: Int, url: String) -> Response {
        let perPage: Int
        if let text = query["perPage"] {
            guard let value = Int(text), (3...maxPerPage).contains(value) else {
                return Self.errors(400, ["'perPage' must be an integer between 3 and \(maxPerPage)"])
            }
            perPage = value
        } else {
            perPage = defaultPerPage
        }
        let sorted = items.sorted { ($0[key]?.stringValue ?? "") < ($1[key]?.stringValue ?? "") }
        let keys = sorted.map { $0[key]?.stringValue ?? "" }
        var range = 0..<sorted.count
        if let after = query["startingAfter"] {
            range = (keys.firstIndex { $0 > after } ?? sorted.count)..<sorted.count
        }
        if let before = query["endingBefore"] {
            let end = keys.firstIndex { $0 >= before } ?? sorted.count
            range = max(range.lowerBound, end - perPage)..<max(range.lowerBound, end)
        }
        let pageRange = range.lowerBound..<min(range.lowerBound + perPage, range.upperBound)
        let carried = query.filter { !["perPage", "startingAfter", "endingBefore"].contains($0.key) }
            .sorted { $0.key < $1.key }
            .map { "\(Self.percentEncoded($0.key))=\(Self.percentEncoded($0.value))" }
        func link(_ parameters: [String], _ relation: String) -> String {
            "<\(url)?\((carried + parameters).joined(separator: "&"))>; rel=\(relation)"
        }
        var links = [link(["perPage=\(perPage)", "startingAfter=0000-0000-0000"], "first")]
        if pageRange.upperBound < range.upperBound, let last = keys[pageRange].last {
            links.append(link(["perPage=\(perPage)", "startingAfter=\(Self.percentEncoded(last))"], "next"))
        }
        links.append(link(["endingBefore=zzzz-zzzz-zzzz", "perPage=\(perPage)"], "last"))
        var response = Self.json(.array(Array(sorted[pageRange])))
        if let name = HTTPField.Name("Link") { response.headers[name] = links.joined(separator: ", ") }
        return response
    }

    func l3Rules(_ method: String, networkID: String, body: JSONValue?, dropRule: Bool) -> Response {
        guard state.current.networks.contains(where: { $0["id"]?.stringValue == networkID }) else {
            return Self.errors(404, ["Network not found"])
        }
        guard let stored = state.current.rules[networkID] else {
            // Appliance endpoints on a network without an MX answer 404 (meraki/dashboard-api-python#132);
            // the message is this simulator's own.
            return Self.errors(404, ["This network has no appliance (MX): appliance firewall settings are not available"])
        }
        switch method {
        case "GET":
            let syslog = state.current.syslogDefaultRule[networkID] ?? false
            return Self.json(["rules": .array(stored + [Self.defaultRule(syslogEnabled: syslog)])])
        case "PUT":
            guard let object = body?.objectValue else { return Self.errors(400, ["Request body must be a JSON object"]) }
            var rules: [JSONValue]
            switch Self.putRules(object, stored: stored) {
            case .success(let list): rules = list
            case .failure(let problem): return Self.errors(400, [problem.message])
            }
            if let syslog = object["syslogDefaultRule"], syslog.boolValue == nil {
                return Self.errors(400, ["'syslogDefaultRule' must be a boolean"])
            }
            if dropRule, !rules.isEmpty { rules.removeLast() }
            let syslog = state.withLock { state -> Bool in
                state.rules[networkID] = rules
                if let value = object["syslogDefaultRule"]?.boolValue { state.syslogDefaultRule[networkID] = value }
                return state.syslogDefaultRule[networkID] ?? false
            }
            return Self.json(["rules": .array(rules + [Self.defaultRule(syslogEnabled: syslog)])])
        default:
            return Self.errors(405, ["Method not allowed"])
        }
    }

    struct RuleProblem: Error {
        var message: String
    }

    /// A rule as the API stores it: the documented fields only, `any` spelled `Any` in addresses and ports.
    /// The list a PUT body's `rules` asks for (the stored one when it names none), each rule as Meraki checks it.
    static func putRules(_ object: [String: JSONValue], stored: [JSONValue]) -> Result<[JSONValue], RuleProblem> {
        guard let list = object["rules"] else { return .success(stored) }
        guard let items = list.arrayValue else { return .failure(RuleProblem(message: "'rules' must be an array")) }
        var rules: [JSONValue] = []
        for (index, item) in items.enumerated() {
            switch validatedRule(item, index: index) {
            case .success(let rule): rules.append(rule)
            case .failure(let problem): return .failure(problem)
            }
        }
        return .success(rules)
    }

    static func validatedRule(_ item: JSONValue, index: Int) -> Result<JSONValue, RuleProblem> {
        func problem(_ text: String) -> Result<JSONValue, RuleProblem> {
            .failure(RuleProblem(message: "At least one of your firewall rules is invalid: rule \(index): \(text)"))
        }
        guard let rule = item.objectValue else { return problem("must be an object") }
        guard let policy = rule["policy"]?.stringValue?.lowercased(), ["allow", "deny"].contains(policy) else {
            return problem("'policy' must be 'allow' or 'deny'")
        }
        guard let ipProtocol = rule["protocol"]?.stringValue?.lowercased(), ["any", "tcp", "udp", "icmp", "icmp6"].contains(ipProtocol) else {
            return problem("'protocol' must be 'tcp', 'udp', 'icmp', 'icmp6' or 'any'")
        }
        func anyCased(_ text: String) -> String { text.lowercased() == "any" ? "Any" : text }
        guard let src = rule["srcCidr"]?.stringValue, !src.isEmpty, let dest = rule["destCidr"]?.stringValue, !dest.isEmpty else {
            return problem("'srcCidr' and 'destCidr' are required")
        }
        let srcPort = anyCased(rule["srcPort"]?.stringValue ?? "Any")
        let destPort = anyCased(rule["destPort"]?.stringValue ?? "Any")
        if !["tcp", "udp"].contains(ipProtocol), srcPort != "Any" || destPort != "Any" {
            return problem("ports can only be given for tcp or udp")
        }
        let stored: JSONValue = [
            "comment": .string(rule["comment"]?.stringValue ?? ""), "policy": .string(policy), "protocol": .string(ipProtocol),
            "srcPort": .string(srcPort), "srcCidr": .string(anyCased(src)), "destPort": .string(destPort),
            "destCidr": .string(anyCased(dest)), "syslogEnabled": .bool(rule["syslogEnabled"]?.boolValue ?? false),
        ]
        // The spec says the list excludes the default rule. What the live API does with one sent back is not
        // documented (meraki/automation-scripts#29 reports it kept as an ordinary rule, a duplicate); answering
        // 400 here makes a client that sends it back fail loudly.
        if stored["comment"] == "Default rule", policy == "allow", ipProtocol == "any",
            [src, dest, srcPort, destPort].allSatisfy({ $0.lowercased() == "any" })
        {
            return problem("the default rule is not part of the rules list and must not be sent")
        }
        return .success(stored)
    }

    func clientPolicy(_ method: String, networkID: String, clientID: String, body: JSONValue?) -> Response {
        let key = "\(networkID)/\(clientID)"
        guard let current = state.current.policies[key] else { return Self.errors(404, ["Client not found"]) }
        switch method {
        case "GET":
            return Self.json(current)
        case "PUT":
            guard let policy = body?["devicePolicy"]?.stringValue else { return Self.errors(400, ["'devicePolicy' is required"]) }
            guard ["Whitelisted", "Blocked", "Normal", "Group policy"].contains(policy) else {
                return Self.errors(400, ["'devicePolicy' must be one of 'Whitelisted', 'Blocked', 'Normal' or 'Group policy'"])
            }
            var updated: [String: JSONValue] = ["mac": current["mac"] ?? .null, "devicePolicy": .string(policy)]
            if policy == "Group policy" {
                guard let group = body?["groupPolicyId"]?.stringValue else {
                    return Self.errors(400, ["'groupPolicyId' is required for 'Group policy'"])
                }
                updated["groupPolicyId"] = .string(group)
            }
            state.withLock { $0.policies[key] = .object(updated) }
            return Self.json(.object(updated))
        default:
            return Self.errors(405, ["Method not allowed"])
        }
    }

    // MARK: Responses

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: value.encoded())))
    }

    /// Meraki's error shape: `{"errors": [...]}`.
    static func errors(_ status: Int, _ messages: [String]) -> Response {
        json(["errors": .array(messages.map(JSONValue.string))], status: .init(code: status))
    }

    static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The simulator as a runnable application on loopback.
    public func application(port: Int = 0, onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        Application(
            router: router(), configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "meraki-simulator", factory: { _ in SwiftLogNoOpLogHandler() }))
    }
}
