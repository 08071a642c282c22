import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

extension Meraki {
    /// Cellular failover rules and policy objects against the simulator (PUT replaces the list; GET ends with the
    /// default rule, which is refused if sent back).
    @Suite struct CellularTests {
        static let marker = "sentry:C-LTE1"
        static let path = "/networks/\(MerakiSimulator.mainOffice)/appliance/firewall/cellularFirewallRules"
        static let adminRule = "Allow TCP traffic to subnet with HTTP servers."

        static func ours(_ settings: ApprovedOnlySettings = ApprovedOnlySettings(cidrs: ["10.20.0.0/24", "10.21.0.0/24"])) -> [MerakiFirewallRule] {
            CellularRulePlan.rules(containmentID: "C-LTE1", settings: settings).map(MerakiFirewallRule.init)
        }

        func comments(_ stage: MerakiHarness) -> [String] {
            stage.simulator.cellularRules(networkID: MerakiSimulator.mainOffice).map { $0["comment"]?.stringValue ?? "?" }
        }

        @Test func oursGoFirstOrLastAndOthersAreKeptWithoutTheDefaultRule() async throws {
            try await MerakiHarness.run { stage in
                let client = stage.client()
                let change = try await client.addCellularRules(
                    networkID: MerakiSimulator.mainOffice, marker: Self.marker, rules: Self.ours(), ours: .first)
                #expect(change == .added)
                let stored = stage.simulator.cellularRules(networkID: MerakiSimulator.mainOffice)
                #expect(stored.map { $0["policy"]?.stringValue } == ["allow", "allow", "deny", "allow"])
                #expect(stored.map { $0["srcCidr"]?.stringValue } == ["10.20.0.0/24", "10.21.0.0/24", "Any", "Any"])
                #expect(comments(stage).last == Self.adminRule)
                let put = try #require(stage.simulator.requests(path: Self.path, method: "PUT").last?.body?["rules"]?.arrayValue)
                #expect(!put.contains { $0["comment"] == "Default rule" })
                #expect(
                    Set(put.compactMap { $0.objectValue.map { Set($0.keys) } }.flatMap { $0 }).isSubset(of: [
                        "comment", "policy", "protocol", "srcPort", "srcCidr", "destPort", "destCidr", "syslogEnabled",
                    ]))

                // Again: found by marker, nothing written.
                #expect(
                    try await client.addCellularRules(networkID: MerakiSimulator.mainOffice, marker: Self.marker, rules: Self.ours(), ours: .first)
                        == .alreadyPresent)
                #expect(stage.simulator.requests(path: Self.path, method: "PUT").count == 1)

                // The default rule the GET shows is never sent back: the simulator would answer 400.
                let gets = stage.simulator.requests(path: Self.path, method: "GET").count
                #expect(gets == 2)
            }
        }

        @Test func placementLastPutsOthersFirst() async throws {
            try await MerakiHarness.run { stage in
                _ = try await stage.client().addCellularRules(
                    networkID: MerakiSimulator.mainOffice, marker: Self.marker, rules: Self.ours(), ours: .last)
                #expect(comments(stage).first == Self.adminRule)
                #expect(stage.simulator.cellularRules(networkID: MerakiSimulator.mainOffice).last?["policy"] == "deny")
            }
        }

        @Test func removalTakesOnlyOursAndKeepsARuleAddedInBetween() async throws {
            try await MerakiHarness.run { stage in
                let client = stage.client()
                _ = try await client.addCellularRules(networkID: MerakiSimulator.mainOffice, marker: Self.marker, rules: Self.ours(), ours: .first)
                stage.simulator.editCellularRules(networkID: MerakiSimulator.mainOffice) { rules in
                    rules.insert(
                        [
                            "comment": "Kiosk exception", "policy": "allow", "protocol": "tcp", "destPort": "443", "destCidr": "203.0.113.0/24",
                            "srcPort": "Any", "srcCidr": "10.99.0.0/24", "syslogEnabled": false,
                        ], at: 1)
                }
                #expect(try await client.removeCellularRules(networkID: MerakiSimulator.mainOffice, marker: Self.marker) == .removed)
                #expect(comments(stage) == ["Kiosk exception", Self.adminRule])
                #expect(try await client.removeCellularRules(networkID: MerakiSimulator.mainOffice, marker: Self.marker) == .notPresent)
            }
        }

        @Test func aShortRateLimitOnTheWriteIsWaitedOutAndWritesOnce() async throws {
            try await MerakiHarness.run { stage in
                let sleep = RecordingSleep()
                stage.simulator.inject([.rateLimited(retryAfter: 1)], for: Self.path, method: "PUT")
                let change = try await stage.client(sleep: sleep).addCellularRules(
                    networkID: MerakiSimulator.mainOffice, marker: Self.marker, rules: Self.ours(), ours: .first)
                #expect(change == .added)
                #expect(stage.simulator.requests(path: Self.path, method: "PUT").count == 2)
                #expect(
                    stage.simulator.cellularRules(networkID: MerakiSimulator.mainOffice).filter {
                        $0["comment"]?.stringValue?.hasPrefix(Self.marker) == true
                    }.count == 3)
            }
        }

        @Test func aLongRateLimitOnTheWriteGoesToTheCallerAsTransient() async throws {
            try await MerakiHarness.run { stage in
                stage.simulator.inject([.rateLimited(retryAfter: 120)], for: Self.path, method: "PUT")
                let error = await #expect(throws: MerakiError.self) {
                    _ = try await stage.client().addCellularRules(
                        networkID: MerakiSimulator.mainOffice, marker: Self.marker, rules: Self.ours(), ours: .first)
                }
                #expect(error?.isRetryable == true)
                #expect(comments(stage) == [Self.adminRule])
            }
        }

        @Test func aNetworkWithoutAnApplianceIsNotFound() async throws {
            try await MerakiHarness.run { stage in
                let error = await #expect(throws: MerakiError.self) {
                    _ = try await stage.client().addCellularRules(
                        networkID: MerakiSimulator.warehouse, marker: Self.marker, rules: Self.ours(), ours: .first)
                }
                #expect(error?.isNotFound == true)
            }
        }

        @Test func policyObjectGroupsResolveToTheirCIDRsAndAMissingOneIsRefused() async throws {
            try await MerakiHarness.run { stage in
                let client = stage.client()
                let groups = try await client.policyObjectGroups()
                let objects = try await client.policyObjects()
                #expect(
                    try MerakiPolicyObjectResolver.resolve(names: ["Business devices"], groups: groups, objects: objects) == [
                        "Business devices": ["10.20.0.0/24", "10.30.5.0/28"]
                    ])
                let missing = #expect(throws: MerakiPolicyObjectResolver.Problem.self) {
                    _ = try MerakiPolicyObjectResolver.resolve(names: ["business Devices"], groups: groups, objects: objects)
                }
                #expect(missing?.description == "the organisation has no policy-object group named 'business Devices' (there is 'Business devices')")
                let fqdn = MerakiPolicyObject(id: "9", name: "Intranet", type: "fqdn", fqdn: "intranet.example.com", groupIDs: ["77"])
                #expect(throws: MerakiPolicyObjectResolver.Problem.self) {
                    _ = try MerakiPolicyObjectResolver.resolve(
                        names: ["Web"], groups: [MerakiPolicyObjectGroup(id: "77", name: "Web", objectIDs: [])], objects: [fqdn])
                }
                #expect(throws: MerakiPolicyObjectResolver.Problem.self) {
                    _ = try MerakiPolicyObjectResolver.resolve(
                        names: ["Empty"], groups: [MerakiPolicyObjectGroup(id: "78", name: "Empty", objectIDs: [])], objects: [])
                }
                let masked = MerakiPolicyObject(id: "10", name: "Old", type: "ipAndMask", ip: "192.0.2.0", mask: "255.255.255.0", groupIDs: ["79"])
                #expect(
                    try MerakiPolicyObjectResolver.resolve(
                        names: ["Legacy"], groups: [MerakiPolicyObjectGroup(id: "79", name: "Legacy", objectIDs: [])], objects: [masked]) == [
                            "Legacy": ["192.0.2.0/24"]
                        ])
            }
        }
    }
}
