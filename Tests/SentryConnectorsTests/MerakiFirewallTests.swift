import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

extension Meraki {
    @Suite struct MerakiFirewallTests {
        static let sampleRule: JSONValue = [
            "comment": "Allow TCP traffic to subnet with HTTP servers.", "policy": "allow", "protocol": "tcp",
            "destPort": "443", "destCidr": "192.168.1.0/24", "srcPort": "Any", "srcCidr": "Any", "syslogEnabled": false,
        ]

        @Test func addPutsTheDenyRuleOnTopWithoutTheDefaultRuleAndCarriesSyslog() async throws {
            try await MerakiHarness.run { stage in
                let network = MerakiSimulator.mainOffice
                let change = try await stage.client().addDenyRule(
                    networkID: network, destination: "203.0.113.50", marker: "sentry:C-123", comment: "failed logins from this IP")
                #expect(change == .added)

                let put = try #require(stage.simulator.requests(path: MerakiHarness.l3Path(network), method: "PUT").first)
                let sent = try #require(put.body?["rules"]?.arrayValue)
                #expect(sent.count == 2)
                #expect(sent[0]["comment"] == "sentry:C-123 failed logins from this IP")
                #expect(sent[0]["policy"] == "deny")
                #expect(sent[0]["protocol"] == "any")
                #expect(sent[0]["destCidr"] == "203.0.113.50/32")
                #expect(sent[0]["srcCidr"] == "Any")
                #expect(sent[0]["destPort"] == "Any")
                #expect(sent[0]["srcPort"] == "Any")
                #expect(sent[1] == Self.sampleRule)
                #expect(!sent.contains { $0["comment"] == "Default rule" })
                // The GET showed the default rule logged (its syslogEnabled); the PUT keeps it so.
                #expect(put.body?["syslogDefaultRule"] == true)
                #expect(put.headers["content-type"] == "application/json")

                let stored = stage.simulator.l3Rules(networkID: network)
                #expect(stored.count == 2)
                #expect(stored.first?["destCidr"] == "203.0.113.50/32")
                #expect(stored.last == Self.sampleRule)
                #expect(stage.simulator.syslogDefaultRule(networkID: network) == true)
            }
        }

        @Test func everyRequestCarriesKeyAcceptAndUserAgent() async throws {
            try await MerakiHarness.run { stage in
                _ = try await stage.client().addDenyRule(
                    networkID: MerakiSimulator.branch, destination: "198.51.100.0/24", marker: "sentry:C-9", comment: "")
                let requests = stage.simulator.requests
                #expect(requests.count == 2)
                for request in requests {
                    #expect(request.authorization == "Bearer \(MerakiHarness.apiKey)")
                    #expect(request.headers["accept"] == "application/json")
                    #expect(request.headers["user-agent"] == "SentryPlatform/0.1 SentryPlatform")
                }
                #expect(stage.simulator.l3Rules(networkID: MerakiSimulator.branch).first?["comment"] == "sentry:C-9")
                #expect(stage.simulator.l3Rules(networkID: MerakiSimulator.branch).first?["destCidr"] == "198.51.100.0/24")
            }
        }

        @Test func aSecondAddWithTheSameMarkerChangesNothing() async throws {
            try await MerakiHarness.run { stage in
                let client = stage.client()
                let network = MerakiSimulator.mainOffice
                let firstAdd = try await client.addDenyRule(networkID: network, destination: "203.0.113.50", marker: "sentry:C-123", comment: "x")
                #expect(firstAdd == .added)
                let secondAdd = try await client.addDenyRule(networkID: network, destination: "203.0.113.50", marker: "sentry:C-123", comment: "x")
                #expect(secondAdd == .alreadyPresent)
                #expect(stage.simulator.requests(path: MerakiHarness.l3Path(network), method: "PUT").count == 1)
                #expect(stage.simulator.l3Rules(networkID: network).count == 2)
            }
        }

        @Test func aMarkerIsMatchedAsAWholeWord() async throws {
            try await MerakiHarness.run { stage in
                let client = stage.client()
                let network = MerakiSimulator.branch
                let longerMarker = try await client.addDenyRule(networkID: network, destination: "203.0.113.12", marker: "sentry:C-12", comment: "")
                #expect(longerMarker == .added)
                let shorterMarker = try await client.addDenyRule(networkID: network, destination: "203.0.113.1", marker: "sentry:C-1", comment: "")
                #expect(shorterMarker == .added)
                let removal = try await client.removeRule(networkID: network, marker: "sentry:C-1")
                #expect(removal == .removed)
                #expect(stage.simulator.l3Rules(networkID: network).map { $0["comment"] } == ["sentry:C-12"])
            }
        }

        @Test func removeTakesOnlyOurRuleAndKeepsAnotherAdminsEdits() async throws {
            try await MerakiHarness.run { stage in
                let client = stage.client()
                let network = MerakiSimulator.mainOffice
                _ = try await client.addDenyRule(networkID: network, destination: "203.0.113.50", marker: "sentry:C-123", comment: "x")

                let adminRule: JSONValue = [
                    "comment": "Block guest VLAN to printers", "policy": "deny", "protocol": "tcp", "srcPort": "Any",
                    "srcCidr": "10.9.0.0/24", "destPort": "9100", "destCidr": "10.0.0.123/32", "syslogEnabled": true,
                ]
                stage.simulator.editRules(networkID: network) { rules in
                    rules.insert(adminRule, at: 0)
                    rules[2] = [
                        "comment": "HTTPS to servers (edited)", "policy": "allow", "protocol": "tcp", "destPort": "443,8443",
                        "destCidr": "192.168.1.0/24", "srcPort": "Any", "srcCidr": "Any", "syslogEnabled": false,
                    ]
                }

                let removal = try await client.removeRule(networkID: network, marker: "sentry:C-123")
                #expect(removal == .removed)
                let stored = stage.simulator.l3Rules(networkID: network)
                #expect(stored.count == 2)
                #expect(stored[0] == adminRule)
                #expect(stored[1]["comment"] == "HTTPS to servers (edited)")
                #expect(stored[1]["destPort"] == "443,8443")
                #expect(stage.simulator.syslogDefaultRule(networkID: network) == true)

                let secondRemoval = try await client.removeRule(networkID: network, marker: "sentry:C-123")
                #expect(secondRemoval == .notPresent)
                #expect(stage.simulator.requests(path: MerakiHarness.l3Path(network), method: "PUT").count == 2)
            }
        }

        @Test func concurrentAddsOnOneNetworkAllLand() async throws {
            try await MerakiHarness.run { stage in
                // Copies of one client share its locks, as every containment of an organisation should.
                let client = stage.client()
                let network = MerakiSimulator.branch
                let markers = (1...4).map { "sentry:C-\($0)" }
                let changes = try await withThrowingTaskGroup(of: MerakiClient.RuleChange.self) { group in
                    for (index, marker) in markers.enumerated() {
                        let copy = client
                        group.addTask {
                            try await copy.addDenyRule(networkID: network, destination: "203.0.113.\(index + 1)", marker: marker, comment: "")
                        }
                    }
                    return try await group.reduce(into: [MerakiClient.RuleChange]()) { $0.append($1) }
                }
                #expect(changes == Array(repeating: .added, count: 4))
                let comments = Set(stage.simulator.l3Rules(networkID: network).compactMap { $0["comment"]?.stringValue })
                #expect(comments == Set(markers))
                // Each write read the list its predecessor left: reads and writes strictly alternate.
                let methods = stage.simulator.requests(path: MerakiHarness.l3Path(network)).map(\.method)
                #expect(methods == Array(repeating: ["GET", "PUT"], count: 4).flatMap { $0 })
            }
        }

        @Test func anAnswerMissingARuleIsReported() async throws {
            try await MerakiHarness.run { stage in
                let network = MerakiSimulator.mainOffice
                let sleep = RecordingSleep()
                stage.simulator.inject([.dropRuleInAnswer], for: MerakiHarness.l3Path(network), method: "PUT")
                let error = await #expect(throws: MerakiError.self) {
                    _ = try await stage.client(sleep: sleep).addDenyRule(
                        networkID: network, destination: "203.0.113.50", marker: "sentry:C-123", comment: "x")
                }
                #expect(error == .rulesNotPreserved(networkID: network))
                #expect(error?.isRetryable == false)
                #expect(stage.simulator.requests(path: MerakiHarness.l3Path(network), method: "PUT").count == 1)
                #expect(sleep.durations.isEmpty)
            }
        }

        @Test func aLostAnswerToTheWriteIsReadAgainNotWrittenTwice() async throws {
            try await MerakiHarness.run { stage in
                let network = MerakiSimulator.mainOffice
                let sleep = RecordingSleep()
                stage.simulator.inject([.lostAnswer], for: MerakiHarness.l3Path(network), method: "PUT")
                let change = try await stage.client(sleep: sleep).addDenyRule(
                    networkID: network, destination: "203.0.113.50", marker: "sentry:C-123", comment: "x")
                // The write landed although its answer was lost: reported as ours, and not repeated.
                #expect(change == .added)
                #expect(stage.simulator.requests(path: MerakiHarness.l3Path(network)).map(\.method) == ["GET", "PUT", "GET"])
                #expect(
                    stage.simulator.l3Rules(networkID: network).filter { $0["comment"]?.stringValue?.hasPrefix("sentry:C-123") == true }.count == 1)
                #expect(sleep.durations.count == 1)
            }
        }

        @Test func aWriteRefusedWith5xxIsRetriedAfterReadingAgain() async throws {
            try await MerakiHarness.run { stage in
                let network = MerakiSimulator.branch
                let sleep = RecordingSleep()
                stage.simulator.inject([.status(503)], for: MerakiHarness.l3Path(network), method: "PUT")
                let change = try await stage.client(sleep: sleep).removeRule(networkID: network, marker: "sentry:C-404")
                #expect(change == .notPresent)
                stage.simulator.editRules(networkID: network) { rules in
                    rules = [
                        [
                            "comment": "sentry:C-7", "policy": "deny", "protocol": "any", "srcPort": "Any", "srcCidr": "Any",
                            "destPort": "Any", "destCidr": "203.0.113.7/32", "syslogEnabled": false,
                        ]
                    ]
                }
                let removal = try await stage.client(sleep: sleep).removeRule(networkID: network, marker: "sentry:C-7")
                #expect(removal == .removed)
                #expect(stage.simulator.requests(path: MerakiHarness.l3Path(network)).map(\.method) == ["GET", "GET", "PUT", "GET", "PUT"])
                #expect(stage.simulator.l3Rules(networkID: network).isEmpty)
                #expect(sleep.durations.count == 1)
            }
        }

        @Test func aLongRateLimitOnTheWriteGoesToTheCaller() async throws {
            try await MerakiHarness.run { stage in
                let network = MerakiSimulator.mainOffice
                let sleep = RecordingSleep()
                let budget = RecordingBudget()
                stage.simulator.inject([.rateLimited(retryAfter: 120)], for: MerakiHarness.l3Path(network), method: "PUT")
                let error = await #expect(throws: MerakiError.self) {
                    _ = try await stage.client(budget: budget, sleep: sleep).addDenyRule(
                        networkID: network, destination: "203.0.113.50", marker: "sentry:C-123", comment: "x")
                }
                #expect(error == .rateLimited(retryAfter: .seconds(120)))
                #expect(budget.drains == [.seconds(120)])
                #expect(stage.simulator.requests(path: MerakiHarness.l3Path(network)).map(\.method) == ["GET", "PUT"])
                #expect(sleep.durations.isEmpty)
                #expect(stage.simulator.l3Rules(networkID: network).count == 1)
            }
        }

        @Test func aNetworkWithoutAnApplianceIsANotFoundError() async throws {
            try await MerakiHarness.run { stage in
                let network = MerakiSimulator.warehouse
                let error = await #expect(throws: MerakiError.self) {
                    _ = try await stage.client().addDenyRule(
                        networkID: network, destination: "203.0.113.50", marker: "sentry:C-123", comment: "x")
                }
                #expect(error?.isNotFound == true)
                #expect(error?.isRetryable == false)
                if case .http(404, let errors) = error {
                    #expect(errors.first?.contains("no appliance") == true)
                } else {
                    Issue.record("expected HTTP 404, got \(String(describing: error))")
                }
                #expect(stage.simulator.requests.map(\.method) == ["GET"])
            }
        }

        @Test(arguments: ["any", "Any", "0.0.0.0/0", "::/0", "example.com", "10.0.0.1/33", "10.0.0.1/x", ""])
        func aDestinationThatIsNotANarrowAddressIsRefusedBeforeSending(_ destination: String) async throws {
            try await MerakiHarness.run { stage in
                let error = await #expect(throws: MerakiError.self) {
                    _ = try await stage.client().addDenyRule(
                        networkID: MerakiSimulator.mainOffice, destination: destination, marker: "sentry:C-1", comment: "x")
                }
                guard case .invalidArgument = error else {
                    Issue.record("expected invalidArgument, got \(String(describing: error))")
                    return
                }
                #expect(stage.simulator.requests.isEmpty)
            }
        }

        @Test func anIPv6AddressBecomesA128() async throws {
            try await MerakiHarness.run { stage in
                let network = MerakiSimulator.branch
                _ = try await stage.client().addDenyRule(networkID: network, destination: "2001:DB8::1", marker: "sentry:C-6", comment: "")
                #expect(stage.simulator.l3Rules(networkID: network).first?["destCidr"] == "2001:db8::1/128")
            }
        }

        @Test func theDefaultRuleIsNeverSentBackByAPlainUpdate() async throws {
            try await MerakiHarness.run { stage in
                let client = stage.client()
                let network = MerakiSimulator.mainOffice
                let read = try await client.l3FirewallRules(networkID: network)
                #expect(read.rules.count == 1)
                #expect(read.defaultRule?.isDefaultRule == true)
                #expect(read.syslogDefaultRule == true)
                // Sending the list back as the API showed it (default rule last) leaves the default rule out.
                let written = try await client.updateL3FirewallRules(
                    networkID: network, rules: read.rules + [try #require(read.defaultRule)], syslogDefaultRule: false)
                #expect(written.rules == read.rules)
                let put = try #require(stage.simulator.requests(path: MerakiHarness.l3Path(network), method: "PUT").first)
                #expect(put.body?["rules"]?.arrayValue?.count == 1)
                #expect(stage.simulator.syslogDefaultRule(networkID: network) == false)
            }
        }
    }
}
