import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryStore

/// Blocks Slack users through SCIM and IPs on Meraki appliance firewalls, and undoes exactly that.
///
/// Every step is safe to repeat: facts needed for rollback are journaled before the change they describe
/// (first write wins), firewall rules are found by the containment's marker, and SCIM state is read first.
public struct LiveContainmentExecutor: ContainmentExecutor {
    let slackAdmin: SlackAdminClient?
    let meraki: MerakiClient?
    /// MERAKI_NETWORKS; empty means every network with an appliance.
    let networks: [String]
    let journal: any ContainmentJournal
    let logger: Logger

    public init(slackAdmin: SlackAdminClient?, meraki: MerakiClient?, networks: [String], journal: any ContainmentJournal, logger: Logger) {
        self.slackAdmin = slackAdmin
        self.meraki = meraki
        self.networks = networks
        self.journal = journal
        self.logger = logger
    }

    public static func marker(_ containmentID: String) -> String { "sentry:\(containmentID)" }

    public func execute(_ containment: Containment) async throws -> String {
        switch containment.kind {
        case .blockUser: try await blockUser(containment)
        case .blockIP: try await blockIP(containment)
        case .approvedOnly: try await applyApprovedOnly(containment)
        }
    }

    public func release(_ containment: Containment) async throws -> String {
        switch containment.kind {
        case .blockUser: try await unblockUser(containment)
        case .blockIP: try await unblockIP(containment)
        case .approvedOnly: try await restoreApprovedOnly(containment)
        }
    }

    // MARK: Slack users

    func blockUser(_ containment: Containment) async throws -> String {
        guard let slackAdmin else { throw ContainmentError.notConfigured(.blockUser) }
        let user = containment.target
        let current = try await slackCall { try await slackAdmin.user(id: user) }
        guard let current else { throw ContainmentError.permanent("Slack has no user \(user)") }
        // Whether the account was active before this block decides what rollback may do.
        let before = try await journal.remember(containmentID: containment.id, key: "user.active_before", value: current.active ? "true" : "false")
        let outcome = try await slackCall { try await slackAdmin.deactivate(userID: user) }
        switch outcome {
        case .deactivated, .alreadyInactive:
            var report = before == "false" ? "The account was already deactivated; it stays so." : "Account deactivated through SCIM."
            do {
                try await slackAdmin.resetSessions(userID: user)
                report += " Sessions reset."
            } catch {
                // Deactivation already ends the sessions; the explicit reset is belt and braces.
                logger.warning("session reset failed after deactivation", metadata: ["error": "\(error)"])
                report += " Session reset failed (\(FailureClass.userFacing(error))); deactivation ends sessions anyway."
            }
            return report
        case .notFound:
            throw ContainmentError.permanent("Slack has no user \(user)")
        case .refused(let reason):
            logger.warning("slack refused the deactivation", metadata: ["slack.user_id": "\(user)", "slack.reason": "\(reason)"])
            throw ContainmentError.permanent("Slack refused to deactivate \(user)")
        }
    }

    func unblockUser(_ containment: Containment) async throws -> String {
        guard let slackAdmin else { throw ContainmentError.notConfigured(.blockUser) }
        let facts = try await journal.recall(containmentID: containment.id)
        if facts["user.active_before"] == "false" {
            return "Left deactivated: the account was already deactivated before this block."
        }
        let outcome = try await slackCall { try await slackAdmin.reactivate(userID: containment.target) }
        switch outcome {
        case .reactivated: return "Account reactivated through SCIM."
        case .alreadyActive: return "The account was already active again."
        case .notFound: throw ContainmentError.permanent("Slack has no user \(containment.target) any more")
        }
    }

    func slackCall<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as SlackAdminError {
            throw contained(error)
        }
    }

    // MARK: IP addresses

    func targetNetworks(_ meraki: MerakiClient, containmentID: String) async throws -> [String] {
        let facts = try await journal.recall(containmentID: containmentID)
        if let saved = facts["networks"] { return saved.split(separator: ",").map(String.init) }
        var chosen = networks
        if chosen.isEmpty {
            chosen = try await merakiCall { try await meraki.networks() }.filter(\.hasAppliance).map(\.id)
        }
        guard !chosen.isEmpty else { throw ContainmentError.permanent("no Meraki network with an appliance to write the rule to") }
        // The list written to is the list rolled back, even if MERAKI_NETWORKS changes meanwhile.
        let saved = try await journal.remember(containmentID: containmentID, key: "networks", value: chosen.joined(separator: ","))
        return saved.split(separator: ",").map(String.init)
    }

    func blockIP(_ containment: Containment) async throws -> String {
        guard let meraki else { throw ContainmentError.notConfigured(.blockIP) }
        let networkIDs = try await targetNetworks(meraki, containmentID: containment.id)
        let marker = Self.marker(containment.id)
        var written: [String] = []
        var failures: [String] = []
        for network in networkIDs {
            do {
                _ = try await meraki.addDenyRule(
                    networkID: network, destination: containment.target, marker: marker,
                    comment: "block \(containment.target) requested by \(containment.requestedBy)")
                written.append(network)
            } catch let error as MerakiError where !error.isRetryable {
                failures.append("\(network): \(sentence(error, network: network))")
            } catch let error as MerakiError {
                throw ContainmentError.transient("\(network): \(sentence(error, network: network))")
            }
        }
        guard !written.isEmpty else { throw ContainmentError.permanent("no network took the rule: " + failures.joined(separator: "; ")) }
        var blockedClients = 0
        if !containment.target.contains("/") {
            for network in written {
                let clients = try await merakiCall { try await meraki.clients(networkID: network, ip: containment.target) }
                for client in clients {
                    let prior = try await merakiCall { try await meraki.clientPolicy(networkID: network, clientID: client.id) }
                    let value = [prior.devicePolicy.rawValue, prior.groupPolicyID ?? ""].joined(separator: "|")
                    _ = try await journal.remember(containmentID: containment.id, key: "policy:\(network):\(client.id)", value: value)
                    _ = try await merakiCall { try await meraki.setClientPolicy(networkID: network, clientID: client.id, devicePolicy: .blocked) }
                    blockedClients += 1
                }
            }
        }
        var report = "Deny rule on \(written.count) network\(written.count == 1 ? "" : "s")"
        if blockedClients > 0 { report += "; \(blockedClients) client\(blockedClients == 1 ? "" : "s") set to Blocked" }
        if !failures.isEmpty { report += ". Not written: " + failures.joined(separator: "; ") }
        return report + "."
    }

    func unblockIP(_ containment: Containment) async throws -> String {
        guard let meraki else { throw ContainmentError.notConfigured(.blockIP) }
        let facts = try await journal.recall(containmentID: containment.id)
        let networkIDs = facts["networks"].map { $0.split(separator: ",").map(String.init) } ?? []
        let marker = Self.marker(containment.id)
        var removed = 0
        var failures: [String] = []
        for network in networkIDs {
            do {
                if try await meraki.removeRule(networkID: network, marker: marker) == .removed { removed += 1 }
            } catch let error as MerakiError where error.isNotFound {
                // No firewall there (no appliance, network gone): the rule never reached it, nothing to remove.
                continue
            } catch let error as MerakiError where !error.isRetryable {
                failures.append("\(network): \(sentence(error, network: network))")
            } catch let error as MerakiError {
                throw ContainmentError.transient("\(network): \(sentence(error, network: network))")
            }
        }
        var restored = 0
        for (key, value) in facts.sorted(by: { $0.key < $1.key }) where key.hasPrefix("policy:") {
            let parts = key.split(separator: ":", maxSplits: 2).map(String.init)
            guard parts.count == 3 else { continue }
            let prior = value.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let policy = MerakiDevicePolicy(rawValue: prior.first ?? "Normal")
            let group = prior.count > 1 && !prior[1].isEmpty ? prior[1] : nil
            _ = try await merakiCall {
                try await meraki.setClientPolicy(networkID: parts[1], clientID: parts[2], devicePolicy: policy, groupPolicyID: group)
            }
            restored += 1
        }
        if !failures.isEmpty {
            // Our rule may still be on those networks: not released until it is gone everywhere.
            throw ContainmentError.permanent("our rule could not be removed from " + failures.joined(separator: "; "))
        }
        var report = "Our rule removed from \(removed) network\(removed == 1 ? "" : "s")"
        if restored > 0 { report += "; \(restored) client polic\(restored == 1 ? "y" : "ies") restored" }
        if !failures.isEmpty { report += ". Problems: " + failures.joined(separator: "; ") }
        return report + "."
    }

    func merakiCall<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as MerakiError {
            throw contained(error)
        }
    }

    /// What the thread may say about a service's failure; what the service said goes to the log.
    func sentence(_ error: some ConnectorError, network: String? = nil) -> String {
        var metadata: Logger.Metadata = ["error": "\(error)"]
        if let network { metadata["meraki.network_id"] = "\(network)" }
        logger.warning("containment call failed", metadata: metadata)
        return error.userFacing
    }

    /// A service's failure as a containment error: transient when a repeat may pass.
    func contained(_ error: some ConnectorError) -> ContainmentError {
        error.isRetryable ? .transient(sentence(error)) : .permanent(sentence(error))
    }
}

extension LiveContainmentExecutor {
    /// The executor for the configured credentials; nil when neither Slack admin nor Meraki is set up.
    public static func make(
        configuration: ServerConfiguration, transport: any HTTPTransport, journal: any ContainmentJournal, logger: Logger,
        merakiBudget: TokenBucket = TokenBucket(capacity: 10, refillPerSecond: 10), metrics: ServerMetrics? = nil
    ) -> LiveContainmentExecutor? {
        let plainSleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
        let scimWaits: @Sendable (Duration) -> Void = metrics.map { $0.waitRecorder(limiter: "slack_scim") } ?? { @Sendable _ in }
        let retrySleep = { (limiter: String) in metrics?.meteredSleep(limiter: limiter) ?? plainSleep }
        let slackAdmin = configuration.slackAdminToken.map { token in
            SlackAdminClient(
                transport: transport, scimBaseURL: configuration.slackSCIMURL, apiBaseURL: configuration.slackAPIURL, token: token,
                scimWrites: SlackAdminClient.scimWriteBucket(onWait: scimWaits), sleep: retrySleep("slack_scim_retry"),
                logger: logger)
        }
        var meraki: MerakiClient?
        if let key = configuration.merakiAPIKey, let organization = configuration.merakiOrgID {
            meraki = MerakiClient(
                transport: transport, baseURL: configuration.merakiAPIURL, apiKey: key, organizationID: organization,
                limiter: merakiBudget, sleep: retrySleep("meraki_retry"), logger: logger)
        }
        guard slackAdmin != nil || meraki != nil else { return nil }
        return LiveContainmentExecutor(
            slackAdmin: slackAdmin, meraki: meraki, networks: configuration.merakiNetworks, journal: journal, logger: logger)
    }
}
