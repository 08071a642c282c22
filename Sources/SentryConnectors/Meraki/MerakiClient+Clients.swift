import SentryCore

extension MerakiClient {
    /// Clients of a network whose IPv4 address is exactly `ip`. The API's `ip` filter is a partial match
    /// (`10.0.0.1` also finds `10.0.0.12`), so the answer is filtered again here.
    /// - Parameter timespan: how far back to look (the API's default is one day, its maximum 31 days).
    public func clients(networkID: String, ip: String, timespan: Duration? = nil, perPage: Int = 1000) async throws -> [MerakiNetworkClient] {
        var query = [("ip", ip), ("perPage", String(min(max(perPage, 3), 5000)))]
        if let timespan {
            query.append(("timespan", String(min(max(Int(timespan.components.seconds), 1), 2_678_400))))
        }
        let all: [MerakiNetworkClient] = try await getAllPages(
            "getNetworkClients", path: "/networks/\(Self.segment(networkID))/clients", query: query)
        let wanted = IPAddress(ip)
        return all.filter { client in
            guard let address = client.ip else { return false }
            if let wanted, let parsed = IPAddress(address) { return parsed == wanted }
            return address == ip
        }
    }

    public func clientPolicy(networkID: String, clientID: String) async throws -> MerakiClientPolicy {
        let operation = "getNetworkClientPolicy"
        let answer = try await execute(
            operation, method: "GET", url: url(policyPath(networkID, clientID)), safeToRepeat: true)
        return try decode(MerakiClientPolicy.self, from: answer, operation)
    }

    /// Sets a client's device policy (`.blocked` to contain it; the policy read before to roll back).
    /// Repeating it is harmless, so it is retried like a read.
    @discardableResult
    public func setClientPolicy(
        networkID: String,
        clientID: String,
        devicePolicy: MerakiDevicePolicy,
        groupPolicyID: String? = nil
    ) async throws -> MerakiClientPolicy {
        let operation = "updateNetworkClientPolicy"
        var body: [String: JSONValue] = ["devicePolicy": .string(devicePolicy.rawValue)]
        body["groupPolicyId"] = groupPolicyID.map(JSONValue.string)
        let answer = try await execute(
            operation, method: "PUT", url: url(policyPath(networkID, clientID)), body: .object(body), safeToRepeat: true)
        logger.info(
            "meraki client policy set",
            metadata: [
                "meraki.network_id": "\(networkID)", "meraki.client_id": "\(clientID)",
                "meraki.device_policy": "\(devicePolicy)",
            ])
        return try decode(MerakiClientPolicy.self, from: answer, operation)
    }

    private func policyPath(_ networkID: String, _ clientID: String) -> String {
        "/networks/\(Self.segment(networkID))/clients/\(Self.segment(clientID))/policy"
    }
}
