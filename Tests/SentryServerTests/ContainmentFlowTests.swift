import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// Block user / block IP end to end: the real server, Slack, SCIM and Meraki simulators on loopback.
@Suite struct ServerContainmentFlowTests {
    static let carol = "U0CAROL"

    static let playbooks: [Playbook] = [
        ServerHarness.testPlaybooks[0],
        Playbook(
            id: "downloads", title: "Downloads", detection: "slack.max_daily_download", severity: .high,
            actions: [ContainmentAction(kind: .blockUser, approvals: 0, ttl: 3_600)]),
    ]

    static func ttlValues(_ ttl: String, _ reason: String) -> JSONValue {
        [
            ContainmentModal.ttlBlock: [ContainmentModal.ttlAction: ["type": "plain_text_input", "value": .string(ttl)]],
            ContainmentModal.reasonBlock: [ContainmentModal.reasonAction: ["type": "plain_text_input", "value": .string(reason)]],
        ]
    }

    /// Presses Block IP…, checks the modal, submits it; returns the containment id.
    func requestBlock(_ h: ServerHarness, alertID: String, ts: String, by user: String = ServerHarness.alice, ttl: String = "2h") async throws
        -> String
    {
        let viewsBefore = h.simulator.views.count
        _ = try await h.client.click("block_ip", value: alertID, user: user, responseURL: h.responseURL, messageTS: ts)
        #expect(await h.simulator.waitUntil { $0.views.count == viewsBefore + 1 })
        let view = try #require(h.simulator.views.last)
        #expect(view["callback_id"] == .string(ContainmentModal.callbackID))
        let metadata = try #require(view["private_metadata"]?.stringValue)
        let submitted = try await h.client.submitView(
            callbackID: ContainmentModal.callbackID, user: user, privateMetadata: metadata,
            values: Self.ttlValues(ttl, "password spraying from this address"))
        #expect(submitted.status == 200)
        #expect(submitted.body.isEmpty)
        let alert = try #require(try await h.store.alert(id: alertID))
        return try #require(alert.containments.last?.id)
    }

    func status(_ h: ServerHarness, _ alertID: String, _ id: String) async throws -> Containment.Status? {
        try await h.store.alert(id: alertID)?.containments.first { $0.id == id }?.status
    }

    func ourRules(_ h: ServerHarness, _ network: String) -> [JSONValue] {
        h.meraki.l3Rules(networkID: network).filter { $0["comment"]?.stringValue?.contains("sentry:") == true }
    }

    @Test func blockIPWithApprovalThenExpiryRollsBackOnlyOurRule() async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            let (alertID, ts) = try await h.postedAlert()
            let id = try await requestBlock(h, alertID: alertID, ts: ts)
            #expect(try await status(h, alertID, id) == .awaitingApproval)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).contains { $0.text.contains("Needs 1 approval") } })
            #expect(await h.simulator.waitUntil { Transcript.text($0.topLevelMessages().first?.blocks).contains("\"action_id\":\"approve\"") })

            // The requester cannot approve their own request.
            _ = try await h.client.click("approve", value: id, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.responses.contains { $0["text"]?.stringValue?.contains("another responder") == true } })
            #expect(try await status(h, alertID, id) == .awaitingApproval)
            #expect(h.meraki.requests.filter { $0.method == "PUT" }.isEmpty)

            _ = try await h.client.click("approve", value: id, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await status(h, alertID, id) == .active })
            for network in [MerakiSimulator.mainOffice, MerakiSimulator.branch] {
                let rules = h.meraki.l3Rules(networkID: network)
                #expect(rules.first?["policy"] == "deny")
                #expect(rules.first?["destCidr"]?.stringValue?.hasPrefix("203.0.113.7") == true)
                #expect(rules.first?["comment"]?.stringValue?.contains("sentry:\(id)") == true)
            }
            #expect(h.meraki.requests(path: "/networks/\(MerakiSimulator.warehouse)/appliance/firewall/l3FirewallRules", method: "PUT").isEmpty)

            // Another admin edits the main office list while the block is active.
            h.meraki.editRules(networkID: MerakiSimulator.mainOffice) { rules in
                rules.append([
                    "comment": "Partner VPN", "policy": "allow", "protocol": "tcp", "destPort": "22", "destCidr": "198.51.100.0/24",
                    "srcPort": "Any", "srcCidr": "Any", "syslogEnabled": false,
                ])
            }
            let before = h.meraki.l3Rules(networkID: MerakiSimulator.mainOffice).count

            h.clock.advance(by: 2 * 3_600 + 1)
            // The containment's expiry (and the alert's acknowledgement timeout) come due.
            #expect(try await h.server.scheduler.fireDue() >= 1)
            #expect(await eventually { try await status(h, alertID, id) == .released })
            let after = h.meraki.l3Rules(networkID: MerakiSimulator.mainOffice)
            #expect(after.count == before - 1)
            #expect(after.contains { $0["comment"] == "Partner VPN" })
            #expect(after.contains { $0["comment"] == "Allow TCP traffic to subnet with HTTP servers." })
            #expect(ourRules(h, MerakiSimulator.mainOffice).isEmpty && ourRules(h, MerakiSimulator.branch).isEmpty)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).contains { $0.text.contains("rolled back (its time ran out)") } })

            let actions = try await h.store.auditEntries(after: 0, limit: 100).map(\.action)
            for expected in [
                "containment.requested", "containment.refused", "containment.approved", "containment.executed", "containment.expired",
                "containment.released",
            ] {
                #expect(actions.contains(expected), "\(expected)")
            }
            #expect(AuditChain.verify(try await h.store.auditEntries(after: 0, limit: 100)) == .intact(entries: actions.count))
            // Every method the bot token called is one the manifest asks a scope for.
            let called = Set(h.simulator.requests.map(\.method).filter { !$0.hasPrefix("admin.") && $0 != "response_url" })
            #expect(called.isSubset(of: Set(SlackManifest.methodScopes.keys)), "\(called)")
            let needed = Set(SlackManifest.methodScopes.values.flatMap { $0 }).union(["commands", "app_mentions:read"])
            #expect(Set(SlackManifest.botScopes) == needed)
        }
    }

    @Test func twoApproversAtTheSameMomentExecuteOnce() async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            let (alertID, ts) = try await h.postedAlert()
            let id = try await requestBlock(h, alertID: alertID, ts: ts)
            async let first = h.client.click("approve", value: id, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            async let second = h.client.click("approve", value: id, user: Self.carol, responseURL: h.responseURL, messageTS: ts)
            _ = try await (first, second)
            #expect(await eventually { try await status(h, alertID, id) == .active })
            #expect(await h.settled())
            #expect(ourRules(h, MerakiSimulator.mainOffice).count == 1)
            let puts = h.meraki.requests(path: "/networks/\(MerakiSimulator.mainOffice)/appliance/firewall/l3FirewallRules", method: "PUT")
            #expect(puts.count == 1)
            let executions = try await h.store.outbox(alertID: alertID).filter { $0.effect == .executeContainment(id: id) }
            #expect(executions.count == 1)
        }
    }

    @Test func merakiFaultsAreRetriedAndTheRuleLandsOnce() async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            let path = "/networks/\(MerakiSimulator.mainOffice)/appliance/firewall/l3FirewallRules"
            h.meraki.inject([.status(503), .lostAnswer], for: path, method: "PUT")
            let (alertID, ts) = try await h.postedAlert()
            let id = try await requestBlock(h, alertID: alertID, ts: ts)
            _ = try await h.client.click("approve", value: id, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(
                await eventually {
                    if try await status(h, alertID, id) == .active { return true }
                    h.clock.advance(by: 60)  // let backed-off retries come due
                    return false
                })
            #expect(ourRules(h, MerakiSimulator.mainOffice).count == 1)
            // Both faults were met: the 503 and the PUT whose answer was lost.
            #expect(h.meraki.requests(path: path, method: "PUT").count >= 2)
        }
    }

    @Test func blockUserRunsAtOnceAndUnblockReactivates() async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            let user = SlackAdminSimulator.activeUserID
            let answer = try await h.client.detection(
                ["id": "dl-1", "detection": "slack.max_daily_download", "subject": ["slack_user_id": .string(user)]],
                secret: ServerHarness.webhookSecret)
            let alertID = try #require(answer.json?["alert_id"]?.stringValue)
            #expect(await eventually { try await h.store.alert(id: alertID)?.message != nil })
            let ts = try #require(try await h.store.alert(id: alertID)?.message?.ts)
            _ = try await h.client.click("block_user", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.views.count == 1 })
            let metadata = try #require(h.simulator.views.last?["private_metadata"]?.stringValue)
            _ = try await h.client.submitView(
                callbackID: ContainmentModal.callbackID, user: ServerHarness.alice, privateMetadata: metadata,
                values: Self.ttlValues("1h", "mass download"))
            let id = try #require(try await h.store.alert(id: alertID)?.containments.first?.id)
            #expect(await eventually { try await status(h, alertID, id) == .active })
            #expect(h.slackAdmin.isActive(user) == false)
            _ = try await h.client.click("unblock", value: id, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await status(h, alertID, id) == .released })
            #expect(h.slackAdmin.isActive(user) == true)
        }
    }

    @Test func dryRunRecordsAndShowsButNeverExecutes() async throws {
        try await withHarness(environment: ["SENTRY_DRY_RUN": "1"], playbooks: Self.playbooks) { h in
            let (alertID, ts) = try await h.postedAlert()
            let id = try await requestBlock(h, alertID: alertID, ts: ts)
            _ = try await h.client.click("approve", value: id, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await status(h, alertID, id) == .active })
            #expect(h.meraki.requests.filter { $0.method == "PUT" }.isEmpty)
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).contains { $0.text.contains("dry run") } })
        }
    }

    @Test func badModalInputGetsInlineErrorsAndChangesNothing() async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            let (alertID, ts) = try await h.postedAlert()
            _ = try await h.client.click("block_ip", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.views.count == 1 })
            let metadata = try #require(h.simulator.views.last?["private_metadata"]?.stringValue)
            for (ttl, reason, block) in [
                ("forever", "spraying", "ttl"), ("30s", "spraying", "ttl"), ("90d", "spraying", "ttl"), ("4h", " ", "reason"),
            ] {
                let answer = try await h.client.submitView(
                    callbackID: ContainmentModal.callbackID, user: ServerHarness.alice, privateMetadata: metadata, values: Self.ttlValues(ttl, reason)
                )
                #expect(answer.json?["response_action"] == "errors")
                #expect(answer.json?["errors"]?[block] != nil, "\(ttl) \(reason)")
            }
            let tampered = try await h.client.submitView(
                callbackID: ContainmentModal.callbackID, user: ServerHarness.alice, privateMetadata: "{}", values: Self.ttlValues("4h", "x y z"))
            #expect(tampered.json?["response_action"] == "errors")
            #expect(try await h.store.alert(id: alertID)?.containments.isEmpty == true)
        }
    }

    @Test func nonRespondersGetNoFormAndTheRefusalIsAudited() async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            let (alertID, ts) = try await h.postedAlert()
            _ = try await h.client.click("block_ip", value: alertID, user: "U0MALLORY", responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.responses.count == 1 })
            #expect(h.simulator.views.isEmpty)
            #expect(try await h.store.auditEntries(after: 0, limit: 100).contains { $0.action == "containment.refused" && $0.actor == "U0MALLORY" })
            _ = try await h.client.click("approve", value: "C-NOSUCH00", user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.responses.count == 2 })
            #expect(h.simulator.responses.last?["text"]?.stringValue?.contains("no longer exists") == true)
        }
    }

    @Test func slashBlockAndUnblockIP() async throws {
        try await withHarness(playbooks: Self.playbooks) { h in
            let bad = try await h.client.command("block-ip 999.1.1.1", user: ServerHarness.alice)
            #expect(bad.json?["text"]?.stringValue?.contains("not an IPv4 or IPv6 address") == true)
            let loopback = try await h.client.command("block-ip 127.0.0.1", user: ServerHarness.alice)
            #expect(loopback.json?["text"]?.stringValue?.contains("loopback") == true)
            let ttl = try await h.client.command("block-ip 203.0.113.9 45d", user: ServerHarness.alice)
            #expect(ttl.json?["text"]?.stringValue?.contains("between") == true)
            let refused = try await h.client.command("block-ip 203.0.113.9", user: "U0MALLORY")
            #expect(refused.json?["text"]?.stringValue?.contains("only responders") == true)

            let privateIP = try await h.client.command("block-ip 10.0.0.12 1h", user: ServerHarness.alice)
            let text = try #require(privateIP.json?["text"]?.stringValue)
            #expect(text.contains("private address"))
            #expect(text.contains("needs 1 approval"))
            let again = try await h.client.command("block-ip 10.0.0.12", user: ServerHarness.bob)
            #expect(again.json?["text"]?.stringValue?.contains("already awaiting approval") == true)
            let live = try #require(try await h.store.liveContainments(kind: .blockIP, target: "10.0.0.12").first)
            let alert = try #require(try await h.store.alert(id: live.alertID))
            #expect(alert.manual)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 1 })

            // Approve; the exact client 10.0.0.12 (not 10.0.0.1 or 10.0.0.123) is blocked, then restored on unblock.
            _ = try await h.client.click("approve", value: live.containmentID, user: ServerHarness.bob, responseURL: h.responseURL)
            #expect(await eventually { try await status(h, live.alertID, live.containmentID) == .active })
            #expect(h.meraki.clientPolicy(networkID: MerakiSimulator.mainOffice, clientID: "k74272e")?["devicePolicy"] == "Blocked")
            #expect(h.meraki.clientPolicy(networkID: MerakiSimulator.mainOffice, clientID: "k74272f")?["devicePolicy"] != "Blocked")
            let unblock = try await h.client.command("unblock-ip 10.0.0.12", user: ServerHarness.bob)
            #expect(unblock.json?["text"]?.stringValue?.contains("Lifting") == true)
            #expect(await eventually { try await status(h, live.alertID, live.containmentID) == .released })
            #expect(h.meraki.clientPolicy(networkID: MerakiSimulator.mainOffice, clientID: "k74272e")?["devicePolicy"] != "Blocked")
            let none = try await h.client.command("unblock-ip 10.0.0.12", user: ServerHarness.bob)
            #expect(none.json?["text"]?.stringValue?.contains("No block") == true)
        }
    }
}

/// Cases found in review: one live block per target, failures that must not leave a block in place.
@Suite struct ServerContainmentReviewTests {
    @Test func aSecondLiveBlockOfTheSameIPIsRefusedEvenFromAnotherAlert() async throws {
        try await withHarness(playbooks: ServerContainmentFlowTests.playbooks) { h in
            let first = try await h.postedAlert(id: "evt-1")
            let flow = ServerContainmentFlowTests()
            _ = try await flow.requestBlock(h, alertID: first.alertID, ts: first.ts)
            // A second alert about the same IP (after the grouping window) asks again.
            h.clock.advance(by: 3_601)
            let second = try await h.postedAlert(id: "evt-2")
            _ = try await h.client.click("block_ip", value: second.alertID, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: second.ts)
            #expect(await h.simulator.waitUntil { $0.views.count == 2 })
            let metadata = try #require(h.simulator.views.last?["private_metadata"]?.stringValue)
            let answer = try await h.client.submitView(
                callbackID: ContainmentModal.callbackID, user: ServerHarness.bob, privateMetadata: metadata,
                values: ServerContainmentFlowTests.ttlValues("1h", "again"))
            #expect(answer.json?["errors"]?["reason"]?.stringValue?.contains("already awaiting approval") == true)
            #expect(try await h.store.liveContainments(kind: .blockIP, target: "203.0.113.7").count == 1)
        }
    }

    @Test func aFailedRollbackIsRetriedAutomaticallyAndAPartialOneIsNotReleased() async throws {
        try await withHarness(playbooks: ServerContainmentFlowTests.playbooks) { h in
            let (alertID, ts) = try await h.postedAlert()
            let id = try await ServerContainmentFlowTests().requestBlock(h, alertID: alertID, ts: ts)
            _ = try await h.client.click("approve", value: id, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await h.store.alert(id: alertID)?.containments.first?.status == .active })
            // The branch refuses the rule removal: not released, our rule stays listed as a problem.
            h.meraki.inject([.status(403)], for: "/networks/\(MerakiSimulator.branch)/appliance/firewall/l3FirewallRules", method: "GET")
            _ = try await h.client.click("unblock", value: id, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await h.store.alert(id: alertID)?.containments.first?.status == .failed })
            #expect(try await h.store.alert(id: alertID)?.containments.first?.failedPhase == .release)
            // Ten minutes later it is tried again by itself, and this time it goes through.
            h.clock.advance(by: 601)
            #expect(try await h.server.scheduler.fireDue() >= 1)
            #expect(await eventually { try await h.store.alert(id: alertID)?.containments.first?.status == .released })
            #expect(h.meraki.l3Rules(networkID: MerakiSimulator.branch).allSatisfy { $0["comment"]?.stringValue?.contains("sentry:") != true })
        }
    }

    @Test func blockingWithoutMerakiSaysWhatToSet() async throws {
        try await withHarness(environment: ["MERAKI_API_KEY": "", "MERAKI_ORG_ID": ""], playbooks: ServerContainmentFlowTests.playbooks) { h in
            let (alertID, ts) = try await h.postedAlert()
            _ = try await h.client.click("block_ip", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.responses.count == 1 })
            #expect(h.simulator.responses.first?["text"]?.stringValue?.contains("MERAKI_API_KEY") == true)
            #expect(h.simulator.views.isEmpty)
            let slash = try await h.client.command("block-ip 203.0.113.9", user: ServerHarness.alice)
            #expect(slash.json?["text"]?.stringValue?.contains("MERAKI_API_KEY") == true)
        }
    }
}
