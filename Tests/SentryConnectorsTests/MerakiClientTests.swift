import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

extension Meraki {
    @Suite struct MerakiClientTests {
        static let organizationPath = "/organizations/\(MerakiHarness.organizationID)"

        @Test func inventoryDecodesInTheSpecsShapes() async throws {
            try await MerakiHarness.run { stage in
                let client = stage.client()
                let networks = try await client.networks()
                #expect(networks.map(\.id) == [MerakiSimulator.mainOffice, MerakiSimulator.branch, MerakiSimulator.warehouse])
                #expect(networks.map(\.hasAppliance) == [true, true, false])
                #expect(networks.first?.organizationID == MerakiHarness.organizationID)

                let uplinks = try await client.applianceUplinkStatuses()
                #expect(uplinks.count == 2)
                let main = try #require(uplinks.first { $0.networkID == MerakiSimulator.mainOffice })
                #expect(main.activeUplink?.interface == "wan1")
                #expect(main.activeUplink?.publicIP == "123.123.123.1")
                #expect(main.uplinks.last?.isCellular == true)
                #expect(main.uplinks.last?.provider == "at&t")
                #expect(main.highAvailability?.role == "primary")
            }
        }

        @Test func listingsFollowLinkHeadersAcrossThreePages() async throws {
            try await MerakiHarness.run { stage in
                let devices = try await stage.client().devices(perPage: 3)
                #expect(devices.map(\.serial) == (1...8).map { "Q234-ABCD-000\($0)" })
                #expect(devices.first?.productType == "appliance")
                #expect(devices.first?.lanIP == nil)
                let pages = stage.simulator.requests(path: "\(Self.organizationPath)/devices")
                #expect(pages.count == 3)
                #expect(pages.map { $0.query["perPage"] } == ["3", "3", "3"])
                #expect(pages.map { $0.query["startingAfter"] } == [nil, "Q234-ABCD-0003", "Q234-ABCD-0006"])
                #expect(pages.allSatisfy { $0.authorization == "Bearer \(MerakiHarness.apiKey)" })
            }
        }

        @Test func clientsAreFilteredOnTheExactAddress() async throws {
            try await MerakiHarness.run { stage in
                let client = stage.client()
                // The API's filter is partial: 10.0.0.1 also finds 10.0.0.12 and 10.0.0.123.
                let found = try await client.clients(networkID: MerakiSimulator.mainOffice, ip: "10.0.0.1")
                #expect(found.map(\.id) == ["k74272f"])
                #expect(found.first?.ip == "10.0.0.1")
                #expect(found.first?.vlan == "100")
                let twelve = try await client.clients(networkID: MerakiSimulator.mainOffice, ip: "10.0.0.12", timespan: .seconds(7 * 86_400))
                #expect(twelve.map(\.id) == ["k74272e"])
                #expect(try await client.clients(networkID: MerakiSimulator.mainOffice, ip: "10.0.0.2").isEmpty)

                let requests = stage.simulator.requests(path: "/networks/\(MerakiSimulator.mainOffice)/clients")
                #expect(requests.map { $0.query["ip"] } == ["10.0.0.1", "10.0.0.12", "10.0.0.2"])
                #expect(requests[1].query["timespan"] == "604800")
            }
        }

        @Test func clientPolicyIsReadSetAndRestored() async throws {
            try await MerakiHarness.run { stage in
                let client = stage.client()
                let network = MerakiSimulator.mainOffice
                let before = try await client.clientPolicy(networkID: network, clientID: "k74272e")
                #expect(before == MerakiClientPolicy(mac: "22:33:44:55:66:77", devicePolicy: .groupPolicy, groupPolicyID: "101"))

                let blocked = try await client.setClientPolicy(networkID: network, clientID: "k74272e", devicePolicy: .blocked)
                #expect(blocked.devicePolicy == .blocked)
                #expect(stage.simulator.clientPolicy(networkID: network, clientID: "k74272e")?["devicePolicy"] == "Blocked")
                let put = try #require(stage.simulator.requests(path: "/networks/\(network)/clients/k74272e/policy", method: "PUT").first)
                #expect(put.body == ["devicePolicy": "Blocked"])

                try await client.setClientPolicy(
                    networkID: network, clientID: "k74272e", devicePolicy: before.devicePolicy, groupPolicyID: before.groupPolicyID)
                let restored = try await client.clientPolicy(networkID: network, clientID: "k74272e")
                #expect(restored == before)
            }
        }

        @Test func bothAllowListSpellingsReadAsOne() {
            #expect(MerakiDevicePolicy(rawValue: "Allowed") == .allowListed)
            #expect(MerakiDevicePolicy(rawValue: "Whitelisted") == .allowListed)
            #expect(MerakiDevicePolicy(rawValue: "Blocked") == .blocked)
        }

        @Test func rateLimitWaitsRetryAfterAndDrainsTheSharedBudget() async throws {
            try await MerakiHarness.run { stage in
                let budget = RecordingBudget()
                let sleep = RecordingSleep()
                stage.simulator.inject([.rateLimited(retryAfter: 2)], for: "\(Self.organizationPath)/networks")
                let networks = try await stage.client(budget: budget, sleep: sleep).networks()
                #expect(networks.count == 3)
                #expect(sleep.durations == [.seconds(2)])
                #expect(budget.drains == [.seconds(2)])
                #expect(budget.acquisitions == 2)
            }
        }

        @Test func rateLimitLongerThanThePolicyWaitsGoesToTheCaller() async throws {
            try await MerakiHarness.run { stage in
                let budget = RecordingBudget()
                let sleep = RecordingSleep()
                stage.simulator.inject([.rateLimited(retryAfter: 120)], for: "\(Self.organizationPath)/networks")
                let error = await #expect(throws: MerakiError.self) {
                    _ = try await stage.client(budget: budget, sleep: sleep).networks()
                }
                #expect(error == .rateLimited(retryAfter: .seconds(120)))
                #expect(error?.isRetryable == true)
                #expect(budget.drains == [.seconds(120)])
                #expect(sleep.durations.isEmpty)
            }
        }

        @Test func serverErrorsAreRetriedWithJitteredBackoff() async throws {
            try await MerakiHarness.run { stage in
                let sleep = RecordingSleep()
                stage.simulator.inject([.status(503), .status(502)], for: "\(Self.organizationPath)/devices")
                let devices = try await stage.client(sleep: sleep).devices()
                #expect(devices.count == 8)
                #expect(stage.simulator.requests(path: "\(Self.organizationPath)/devices").count == 3)
                let waits = sleep.durations
                try #require(waits.count == 2)
                #expect(waits[0] >= .milliseconds(250) && waits[0] <= .milliseconds(750))
                #expect(waits[1] >= .milliseconds(500) && waits[1] <= .milliseconds(1500))
            }
        }

        @Test func retriesStopAtMaxAttempts() async throws {
            try await MerakiHarness.run { stage in
                stage.simulator.inject(Array(repeating: .status(500), count: 5), for: "\(Self.organizationPath)/devices")
                let error = await #expect(throws: MerakiError.self) {
                    _ = try await stage.client(retry: RetryPolicy(maxAttempts: 3)).devices()
                }
                #expect(error == .http(status: 500, errors: ["Simulated failure"]))
                #expect(stage.simulator.requests.count == 3)
            }
        }

        @Test func aWrongKeyIsNotRetried() async throws {
            try await MerakiHarness.run { stage in
                let sleep = RecordingSleep()
                let error = await #expect(throws: MerakiError.self) {
                    _ = try await stage.client(apiKey: "wrong", sleep: sleep).networks()
                }
                #expect(error == .http(status: 401, errors: ["Invalid API key"]))
                #expect(stage.simulator.requests.count == 1)
                #expect(sleep.durations.isEmpty)
            }
        }

        @Test func aRedirectToAnotherHostDropsTheKey() async throws {
            try await MerakiHarness.run { stage in
                let path = "\(Self.organizationPath)/networks"
                stage.simulator.inject([.redirect(status: 307, location: "http://localhost:\(stage.port)/api/v1\(path)")], for: path)
                let error = await #expect(throws: MerakiError.self) { _ = try await stage.client().networks() }
                // The simulator refuses a request without the key, which is what the other host got.
                #expect(error == .http(status: 401, errors: ["Invalid API key"]))
                let requests = stage.simulator.requests(path: path)
                try #require(requests.count == 2)
                #expect(requests[0].authorization == "Bearer \(MerakiHarness.apiKey)")
                #expect(requests[1].host == "localhost:\(stage.port)")
                #expect(requests[1].authorization == nil)
                #expect(requests[1].headers["user-agent"] == "SentryPlatform/0.1 SentryPlatform")
            }
        }

        @Test func aRedirectOnTheSameHostKeepsTheKey() async throws {
            try await MerakiHarness.run { stage in
                let path = "\(Self.organizationPath)/networks"
                stage.simulator.inject([.redirect(status: 308, location: "/api/v1\(path)?perPage=1000")], for: path)
                let networks = try await stage.client().networks()
                #expect(networks.count == 3)
                let requests = stage.simulator.requests(path: path)
                #expect(requests.count == 2)
                #expect(requests.allSatisfy { $0.authorization == "Bearer \(MerakiHarness.apiKey)" && $0.host == "127.0.0.1:\(stage.port)" })
            }
        }

        @Test func aRedirectedWriteKeepsItsMethodAndBody() async throws {
            try await MerakiHarness.run { stage in
                let path = "/networks/\(MerakiSimulator.mainOffice)/clients/k74272f/policy"
                stage.simulator.inject([.redirect(status: 307, location: "http://127.0.0.1:\(stage.port)/api/v1\(path)")], for: path, method: "PUT")
                try await stage.client().setClientPolicy(networkID: MerakiSimulator.mainOffice, clientID: "k74272f", devicePolicy: .blocked)
                let puts = stage.simulator.requests(path: path, method: "PUT")
                #expect(puts.count == 2)
                #expect(puts.allSatisfy { $0.body == ["devicePolicy": "Blocked"] && $0.authorization != nil })
            }
        }

        @Test func moreThanFiveRedirectsFail() async throws {
            try await MerakiHarness.run { stage in
                let path = "\(Self.organizationPath)/networks"
                stage.simulator.inject(Array(repeating: .redirect(status: 302, location: "/api/v1\(path)"), count: 6), for: path)
                let error = await #expect(throws: MerakiError.self) { _ = try await stage.client().networks() }
                #expect(error == .tooManyRedirects)
                #expect(stage.simulator.requests.count == 6)
            }
        }

        @Test func theKeyIsNeverLogged() async throws {
            try await MerakiHarness.run { stage in
                let capture = RecordingMerakiLog()
                let client = stage.client(sleep: RecordingSleep(), logger: capture.logger)
                let network = MerakiSimulator.mainOffice
                stage.simulator.inject([.rateLimited(retryAfter: 1), .status(500)], for: MerakiHarness.l3Path(network), method: "GET")
                stage.simulator.inject(
                    [.redirect(status: 307, location: "/api/v1\(MerakiHarness.l3Path(network))")], for: MerakiHarness.l3Path(network), method: "PUT")
                _ = try await client.addDenyRule(networkID: network, destination: "203.0.113.50", marker: "sentry:C-1", comment: "x")
                _ = try? await stage.client(apiKey: MerakiHarness.apiKey + "x", logger: capture.logger).networks()
                let lines = capture.lines
                #expect(lines.contains { $0.contains("retrying") })
                #expect(lines.contains { $0.contains("redirected") })
                #expect(!lines.contains { $0.contains(MerakiHarness.apiKey) })
                #expect(!"\(client)".contains(MerakiHarness.apiKey))
                var dumped = ""
                dump(client, to: &dumped)
                #expect(!dumped.contains(MerakiHarness.apiKey))
            }
        }
    }

    @Suite struct MerakiNetworkLocksTests {
        @Test func writesOnOneNetworkWaitForEachOtherButNotForOtherNetworks() async throws {
            let locks = MerakiNetworkLocks()
            let log = RecordingMerakiLog()
            let (gate, open) = AsyncStream.makeStream(of: Void.self)
            let (started, signalStarted) = AsyncStream.makeStream(of: Void.self)
            let first = Task {
                try await locks.withLock("N_1") {
                    log.append("first start")
                    signalStarted.yield()
                    for await _ in gate { break }
                    log.append("first end")
                }
            }
            for await _ in started { break }
            let second = Task { try await locks.withLock("N_1") { log.append("second") } }
            // Another network is not held up by N_1.
            try await locks.withLock("N_2") { log.append("other network") }
            #expect(await locks.isHeld("N_1"))
            open.yield()
            try await first.value
            try await second.value
            #expect(log.lines == ["first start", "other network", "first end", "second"])
            #expect(await !locks.isHeld("N_1"))
        }

        @Test func theOrganisationBudgetAllowsASmallBurstThenTenPerSecond() async throws {
            // Time stands still and the first requested wait is refused, so the test sees it exactly, without waiting.
            let clock = ManualClock(waits: .refused)
            let bucket = MerakiClient.organizationBudget(clock: clock)
            for _ in 0..<5 { try await bucket.acquire() }
            #expect(clock.requestedWaits.isEmpty)
            await #expect(throws: CancellationError.self) { try await bucket.acquire() }
            let wait = try #require(clock.requestedWaits.first)
            #expect(wait > .milliseconds(90) && wait <= .milliseconds(100))
        }
    }
}
