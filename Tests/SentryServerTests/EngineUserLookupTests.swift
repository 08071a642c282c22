import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// Email and UPN subjects as Slack users (`users.lookupByEmail`), so block user is offered (issue 16 point 3).
@Suite struct EngineUserLookupTests {
    static let sarah = "U0SARAH1"

    /// The shipped engine playbooks, as `sentry serve` loads them from `Playbooks/`.
    static func shippedPlaybooks() throws -> [Playbook] {
        let folder = CoreFixtures.repoRoot.appendingPathComponent("Playbooks")
        var playbooks: [Playbook] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where name.hasPrefix("engine-") {
            let yaml = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            playbooks.append(try #require(PlaybookLoader.parse(yaml, file: name).playbook))
        }
        return playbooks
    }

    func actionIDs(_ message: SlackSimulator.Message?) -> [String] {
        let actions = message?.blocks?.arrayValue?.first { $0["block_id"]?.stringValue == "alert_actions" }
        return actions?["elements"]?.arrayValue?.compactMap { $0["action_id"]?.stringValue } ?? []
    }

    @Test func sentinelAccountBecomesASlackUserWithBlockUser() async throws {
        let playbooks = try Self.shippedPlaybooks()
        #expect(playbooks.count == 7)
        try await withHarness(playbooks: playbooks) { h in
            h.simulator.setUser(Self.sarah, email: "alice@example.com")
            let answer = try await h.engineSample("sentinel/incident.created.json")
            #expect(answer.status == 202)
            let id = try #require(answer.json?["alert_id"]?.stringValue)
            let alert = try #require(try await h.store.alert(id: id))
            #expect(alert.subject.slackUserID == Self.sarah)
            #expect(alert.subject.email == "alice@example.com")
            #expect(alert.playbookID == "engine-sentinel")
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 1 })
            let buttons = actionIDs(h.simulator.topLevelMessages().first)
            #expect(buttons.contains("block_user"))
            #expect(buttons.contains("block_ip"))
            // The request is the one Slack's spec describes.
            let lookups = h.simulator.requests.filter { $0.method == "users.lookupByEmail" }
            #expect(lookups.count == 1)
            let lookup = try #require(lookups.first)
            #expect(lookup.httpMethod == "GET")
            #expect(lookup.authorization == "Bearer \(ServerHarness.botToken)")
            #expect(Set(lookup.query.keys).isSubset(of: try ServerAlertFlowTests.specParameters("users.lookupByEmail")))
            #expect(lookup.query["email"] == "alice@example.com")
            // A second detection of the same account is answered from the cache.
            var body = try #require(JSONValue.parse(try EngineHooks.sample("sentinel/incident.created.json"))?.objectValue)
            var object = try #require(body["object"]?.objectValue)
            object["name"] = "0d9c7b5a-0000-4000-8000-000000000002"
            body["object"] = .object(object)
            let other = try await h.engineHook("sentinel", Array(JSONValue.object(body).encoded().utf8))
            #expect(other.json?["status"]?.stringValue == "grouped")
            #expect(h.simulator.requests.filter { $0.method == "users.lookupByEmail" }.count == 1)
        }
    }

    @Test func splunkUserByEmailAndUnknownAddresses() async throws {
        try await withHarness(playbooks: try Self.shippedPlaybooks()) { h in
            h.simulator.setUser(Self.sarah, email: "bob@example.com")
            var body = try #require(JSONValue.parse(try EngineHooks.sample("splunk/webhook.json"))?.objectValue)
            var result = try #require(body["result"]?.objectValue)
            result["user"] = "Bob@Example.com"
            body["result"] = .object(result)
            let answer = try await h.engineHook("splunk", Array(JSONValue.object(body).encoded().utf8))
            let id = try #require(answer.json?["alert_id"]?.stringValue)
            #expect(try await h.store.alert(id: id)?.subject.slackUserID == Self.sarah)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 1 })
            #expect(actionIDs(h.simulator.topLevelMessages().first).contains("block_user"))
            // An address nobody has: no Slack user, no block user; the alert is there all the same.
            result["user"] = "nobody@example.com"
            body["result"] = .object(result)
            body["sid"] = "scheduler__nobody"
            let unknown = try await h.engineHook("splunk", Array(JSONValue.object(body).encoded().utf8))
            let unknownID = try #require(unknown.json?["alert_id"]?.stringValue)
            #expect(try await h.store.alert(id: unknownID)?.subject.slackUserID == nil)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 2 })
            #expect(!actionIDs(h.simulator.topLevelMessages().last).contains("block_user"))
        }
    }

    @Test func infrastructurePlaybooksOfferNoContainment() async throws {
        try await withHarness(playbooks: try Self.shippedPlaybooks()) { h in
            _ = try await h.engineSample("alertmanager/firing.json")
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 2 })
            for message in h.simulator.topLevelMessages() {
                let buttons = actionIDs(message)
                #expect(!buttons.contains("block_ip"))
                #expect(!buttons.contains("block_user"))
                #expect(buttons.contains("open_link"))
            }
        }
    }
}
