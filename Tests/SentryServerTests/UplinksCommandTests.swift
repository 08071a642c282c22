import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

@Suite struct ServerUplinksCommandTests {
    static let statusesPath = "/organizations/2930418/appliance/uplink/statuses"

    @Test func uplinksAnswerWithBlockKitAndFilter() async throws {
        try await withHarness { h in
            let all = try await h.client.command("uplinks", user: ServerHarness.alice)
            #expect(all.status == 200)
            let blocks = try #require(all.json?["blocks"])
            #expect(SlackSimulator.blockProblem(blocks) == nil)
            let text = Transcript.text(blocks)
            #expect(text.contains("Q234-ABCD-0001") && text.contains("Q234-ABCD-0005"))
            #expect(text.contains("public `123.123.123.1`"))
            #expect(all.json?["response_type"] == "ephemeral")

            let one = try await h.client.command("uplinks q234-abcd-0005", user: ServerHarness.alice)
            let oneText = Transcript.text(one.json?["blocks"])
            #expect(oneText.contains("Q234-ABCD-0005") && !oneText.contains("Q234-ABCD-0001"))

            let none = try await h.client.command("uplinks Atlantis", user: ServerHarness.alice)
            #expect(none.json?["text"]?.stringValue?.contains("No appliance matches `Atlantis`") == true)
        }
    }

    @Test func slowMerakiGetsAnImmediateAnswerAndAFollowUp() async throws {
        try await withHarness { h in
            h.meraki.inject([.stall(seconds: 3)], for: Self.statusesPath)
            let answer = try await h.client.command("uplinks", user: ServerHarness.alice, responseURL: "\(h.slackURL)/response/uplinks")
            // The answer came at the command's deadline (2 s), before Meraki's (3 s): nothing was followed up yet.
            // (An order, not a wall-clock bound: on a loaded machine both move later together.)
            #expect(answer.json?["text"]?.stringValue?.contains("answer follows") == true)
            #expect(!h.simulator.responses.contains { $0["blocks"] != nil })
            #expect(await h.simulator.waitUntil(timeout: .seconds(10)) { $0.responses.contains { $0["blocks"] != nil } })
            let followUp = try #require(h.simulator.responses.first { $0["blocks"] != nil })
            #expect(Transcript.text(followUp["blocks"]).contains("Q234-ABCD-0001"))
            #expect(followUp["response_type"] == "ephemeral")
        }
    }

    @Test func rateLimitedMerakiIsSaidPlainly() async throws {
        try await withHarness { h in
            h.meraki.inject([.rateLimited(retryAfter: 120)], for: Self.statusesPath)
            let answer = try await h.client.command("uplinks", user: ServerHarness.alice)
            #expect(answer.json?["text"]?.stringValue?.contains("rate limiting") == true)
        }
    }

    @Test func manyAppliancesSplitIntoMessagesWithinLimits() {
        let rows = (0..<80).map { index in
            UplinkRow(
                networkID: "N_\(index)", networkName: "Branch \(index) " + String(repeating: "x", count: 200), serial: "Q2XX-\(index)",
                deviceName: "MX \(index)", model: "MX68", lastReportedAt: Date(timeIntervalSince1970: 1_795_000_000),
                links: [
                    .init(interface: "wan1", status: "active", ip: "10.0.\(index).2", publicIP: "198.51.100.\(index)"),
                    .init(interface: "cellular", status: "ready", ip: nil, publicIP: nil),
                ])
        }
        let messages = UplinksMessage.render(rows, heading: "Uplinks")
        #expect(messages.count >= 4)
        for message in messages { #expect(SlackSimulator.blockProblem(message) == nil) }
        let serials = messages.flatMap { $0.arrayValue ?? [] }.compactMap { $0["text"]?["text"]?.stringValue }.filter { $0.contains("Q2XX-") }
        #expect(serials.count == 80)
    }

    @Test func notConfiguredSaysWhichVariables() async throws {
        let harness = try await ServerHarness(uplinks: false)
        let answer = try await harness.client.command("uplinks", user: ServerHarness.alice)
        await harness.stop()
        #expect(answer.json?["text"]?.stringValue?.contains("MERAKI_API_KEY and MERAKI_ORG_ID") == true)
    }
}
