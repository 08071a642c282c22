import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryDetect
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// Approved-only end to end: the real server and runner, the uplink collector, syslog and the webhook, against the
/// Slack and Meraki simulators on loopback.
@Suite struct ServerApprovedOnlyFlowTests {
    static let mx = "Q234-ABCD-0001"
    static let network = MerakiSimulator.mainOffice
    static let adminRule = "Allow TCP traffic to subnet with HTTP servers."
    static let path = "/networks/\(MerakiSimulator.mainOffice)/appliance/firewall/cellularFirewallRules"
    static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func playbook(auto: Bool, approvals: Int = 0, groups: [String] = ["Business devices"], debounce: Int = 30) -> Playbook {
        Playbook(
            id: "uplinks", title: "Uplinks", detection: "meraki.public_ip_change", severity: .medium, groupingWindow: 1_800,
            actions: [
                ContainmentAction(
                    kind: .approvedOnly, approvals: approvals, ttl: 43_200,
                    approvedOnly: ApprovedOnlySettings(auto: auto, debounce: debounce, cidrs: ["10.40.0.0/24"], groups: groups))
            ])
    }

    /// The harness with a pipeline and an uplink collector on its store, as `sentry serve` wires them.
    struct World {
        let h: ServerHarness
        let store: SQLiteAlertStore
        let pipeline: DetectionPipeline
        let collector: MerakiUplinkCollector
        let client: MerakiClient

        /// Main Office MX reports `wan1` and `cellular` with these statuses, `seconds` after the start; the collector polls.
        func uplinks(wan1: String, cellular: String, after seconds: TimeInterval) async {
            h.clock.advance(by: seconds)
            let stamp = Timestamp.iso8601(h.clock.now())
            h.meraki.editUplinks { uplinks in
                for index in uplinks.indices where uplinks[index]["serial"]?.stringValue == ServerApprovedOnlyFlowTests.mx {
                    guard case .object(var report) = uplinks[index], case .array(var links)? = report["uplinks"] else { continue }
                    for link in links.indices {
                        guard case .object(var fields) = links[link] else { continue }
                        fields["status"] = .string(fields["interface"]?.stringValue == "wan1" ? wan1 : cellular)
                        links[link] = .object(fields)
                    }
                    report["uplinks"] = .array(links)
                    report["lastReportedAt"] = .string(stamp)
                    uplinks[index] = .object(report)
                }
            }
            await collector.pollOnce(now: h.clock.now())
        }

        func ours() -> [JSONValue] {
            h.meraki.cellularRules(networkID: ServerApprovedOnlyFlowTests.network).filter { $0["comment"]?.stringValue?.hasPrefix("sentry:") == true }
        }

        func containment() async throws -> Containment? {
            try await store.alerts(statuses: [.open], limit: 10).flatMap(\.containments).first
        }

        func thread() async throws -> String {
            guard let ts = try await store.alerts(statuses: [.open], limit: 10).first?.message?.ts else { return "" }
            return h.simulator.replies(to: ts).map(\.text).joined(separator: "\n")
        }
    }

    func withWorld(_ playbook: Playbook, environment: [String: String] = [:], _ body: (World) async throws -> Void) async throws {
        let store = try SQLiteAlertStore.inMemory()
        let h = try await ServerHarness(environment: environment, playbooks: [playbook], store: store)
        do {
            let clock = h.clock
            let pipeline = try await DetectionPipeline(
                playbooks: [playbook], store: store, channel: ServerHarness.channel, now: { clock.now() }, logger: Self.logger,
                onAlerts: { h.server.runner.wake() })
            let client = MerakiClient(
                transport: h.transport, baseURL: "http://127.0.0.1:\(h.merakiApp.port)/api/v1", apiKey: ServerHarness.merakiKey,
                organizationID: h.meraki.organizationID, limiter: TokenBucket(capacity: 10, refillPerSecond: 10), retry: RetryPolicy(maxAttempts: 1),
                sleep: { _ in }, logger: Self.logger)
            let collector = MerakiUplinkCollector(
                source: client, store: store, sink: pipeline, interval: .seconds(60), tracker: UplinkTracker(staleAfter: 300),
                clock: clock, logger: Self.logger)
            let world = World(h: h, store: store, pipeline: pipeline, collector: collector, client: client)
            await world.uplinks(wan1: "active", cellular: "ready", after: 0)
            try await body(world)
        } catch {
            await h.stop()
            throw error
        }
        await h.stop()
    }

    @Test func autoOnFailoverThenRolledBackWhenTheCollectorSeesThePrimaryBack() async throws {
        try await withWorld(Self.playbook(auto: true)) { w in
            await w.uplinks(wan1: "failed", cellular: "active", after: 60)
            #expect(await eventually { try await w.containment()?.status == .active })
            // Ours first (approved CIDR, the group's CIDRs, the deny), the other admin's rule kept after them.
            let rules = w.h.meraki.cellularRules(networkID: Self.network)
            #expect(rules.map { $0["srcCidr"]?.stringValue } == ["10.40.0.0/24", "10.20.0.0/24,10.30.5.0/28", "Any", "Any"])
            #expect(rules.map { $0["policy"]?.stringValue } == ["allow", "allow", "deny", "allow"])
            #expect(rules.last?["comment"]?.stringValue == Self.adminRule)
            #expect(await eventually { try await w.thread().contains("applied Approved devices only on `\(Self.network)` automatically") })
            // Only the network that failed over was touched.
            #expect(w.h.meraki.cellularRules(networkID: MerakiSimulator.branch).isEmpty)

            await w.uplinks(wan1: "active", cellular: "ready", after: 600)
            #expect(await eventually { try await w.containment()?.primaryBackAt != nil })
            #expect(w.ours().count == 3)
            w.h.clock.advance(by: 31)
            let fired = try await w.h.server.scheduler.fireDue()
            #expect(fired >= 1)
            #expect(await eventually { try await w.containment()?.status == .released })
            #expect(w.h.meraki.cellularRules(networkID: Self.network).map { $0["comment"]?.stringValue } == [Self.adminRule])
            #expect(await eventually { try await w.thread().contains("on cellular for 10m") })
            #expect(w.h.meraki.requests(path: Self.path, method: "PUT").count == 2)
        }
    }

    @Test func syslogSeeingThePrimaryBackRollsItBackToo() async throws {
        try await withWorld(Self.playbook(auto: true)) { w in
            await w.uplinks(wan1: "failed", cellular: "active", after: 60)
            #expect(await eventually { try await w.containment()?.status == .active })
            let clock = w.h.clock
            let syslog = DeviceNameMappingSink(
                inner: w.pipeline, directory: CachedApplianceDirectory(inventory: w.client, now: { clock.now() }, logger: Self.logger),
                logger: Self.logger)
            w.h.clock.advance(by: 300)
            let line = "<134>1 \(Timestamp.iso8601(w.h.clock.now())) Main_Office_MX events - - - failover to wan1"
            let event = try #require(
                MerakiSyslogEvents.event(from: try SyslogParser().parse(line, receivedAt: w.h.clock.now()), receivedAt: w.h.clock.now()))
            try await syslog.deliver([event])
            #expect(await eventually { try await w.containment()?.primaryBackAt != nil })
            w.h.clock.advance(by: 31)
            let fired = try await w.h.server.scheduler.fireDue()
            #expect(fired >= 1)
            #expect(await eventually { try await w.containment()?.status == .released })
            #expect(w.ours().isEmpty)
            #expect(
                await eventually {
                    let thread = try await w.thread()
                    return thread.contains("(syslog)") && thread.contains("on cellular for 5m")
                })
        }
    }

    @Test func aFlappingUplinkMakesNoWriteStorm() async throws {
        try await withWorld(Self.playbook(auto: true)) { w in
            await w.uplinks(wan1: "failed", cellular: "active", after: 60)
            #expect(await eventually { try await w.containment()?.status == .active })
            // Back and forth within the minute, twice.
            for _ in 0..<2 {
                await w.uplinks(wan1: "active", cellular: "ready", after: 10)
                #expect(await eventually { try await w.containment()?.primaryBackAt != nil })
                await w.uplinks(wan1: "failed", cellular: "active", after: 10)
                #expect(await eventually { try await w.containment()?.primaryBackAt == nil })
            }
            w.h.clock.advance(by: 120)
            _ = try await w.h.server.scheduler.fireDue()
            #expect(await w.h.settled())
            #expect(try await w.containment()?.status == .active)
            #expect(w.h.meraki.requests(path: Self.path, method: "PUT").count == 1)
            #expect(try await w.store.alerts(statuses: [.open], limit: 10).flatMap(\.containments).count == 1)
            #expect(await eventually { try await w.thread().contains("failed over to cellular again") })
        }
    }

    static func failoverDetection(id: String = "fo-1") -> JSONValue {
        [
            "id": .string(id), "detection": "meraki.public_ip_change", "title": "Main Office MX failed over to cellular",
            "subject": ["meraki_network_id": .string(network), "meraki_serial": .string(mx)],
            "evidence": ["change": "uplink_failover", "interface": "cellular"],
        ]
    }

    @Test func onRequestWithApprovalThenRestoreByHand() async throws {
        try await withWorld(Self.playbook(auto: false, approvals: 1)) { w in
            let h = w.h
            let answer = try await h.client.detection(Self.failoverDetection(), secret: ServerHarness.webhookSecret)
            let alertID = try #require(answer.json?["alert_id"]?.stringValue)
            #expect(await h.simulator.waitUntil { Transcript.text($0.topLevelMessages().first?.blocks).contains("\"action_id\":\"approved_only\"") })
            let ts = try #require(h.simulator.topLevelMessages().first?.ts)
            #expect(try await w.containment() == nil)  // not auto

            _ = try await h.client.click("approved_only", value: alertID, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await h.simulator.waitUntil { $0.views.count == 1 })
            let view = try #require(h.simulator.views.last)
            #expect(view.encoded().contains("cellular"))
            let submitted = try await h.client.submitView(
                callbackID: ContainmentModal.callbackID, user: ServerHarness.alice, privateMetadata: view["private_metadata"]?.stringValue ?? "",
                values: ServerContainmentFlowTests.ttlValues("4h", "save LTE bandwidth for the tills"))
            #expect(submitted.status == 200)
            let id = try #require(try await w.containment()?.id)
            #expect(try await w.containment()?.status == .awaitingApproval)
            #expect(w.ours().isEmpty)

            _ = try await h.client.click("approve", value: id, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await w.containment()?.status == .active })
            #expect(w.ours().count == 3)

            _ = try await h.client.click("unblock", value: id, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await w.containment()?.status == .released })
            #expect(w.h.meraki.cellularRules(networkID: Self.network).map { $0["comment"]?.stringValue } == [Self.adminRule])
        }
    }

    @Test func aMissingPolicyObjectGroupIsRefusedWithAClearLineAndNothingWritten() async throws {
        try await withWorld(Self.playbook(auto: true, groups: ["Guest kiosks"])) { w in
            _ = try await w.h.client.detection(Self.failoverDetection(), secret: ServerHarness.webhookSecret)
            #expect(await eventually { try await w.containment()?.status == .failed })
            #expect(try await w.containment()?.failure?.contains("no policy-object group named 'Guest kiosks'") == true)
            #expect(w.h.meraki.requests(path: Self.path, method: "PUT").isEmpty)
        }
    }

    /// Meraki's 429 on the PUT (nothing stored): the client waits out Retry-After, reads the list again and writes
    /// once. (A Retry-After longer than the policy waits goes to the runner as a transient failure, retried later;
    /// the organisation's token bucket holds every Meraki call meanwhile.)
    @Test func aRateLimitedWriteIsWaitedOutAndLandsOnce() async throws {
        try await withWorld(Self.playbook(auto: true)) { w in
            w.h.meraki.inject([.rateLimited(retryAfter: 1)], for: Self.path, method: "PUT")
            _ = try await w.h.client.detection(Self.failoverDetection(), secret: ServerHarness.webhookSecret)
            #expect(await eventually { try await w.containment()?.status == .active })
            #expect(w.ours().count == 3)
            #expect(w.h.meraki.requests(path: Self.path, method: "PUT").count == 2)
            #expect(w.h.meraki.cellularRules(networkID: Self.network).last?["comment"]?.stringValue == Self.adminRule)
        }
    }

    @Test func aDryRunShowsTheRulesAndWritesNothing() async throws {
        try await withWorld(Self.playbook(auto: true), environment: ["SENTRY_DRY_RUN": "1"]) { w in
            _ = try await w.h.client.detection(Self.failoverDetection(), secret: ServerHarness.webhookSecret)
            #expect(await eventually { try await w.containment()?.status == .active })
            #expect(await eventually { try await w.thread().contains("would write these cellular failover rules") })
            #expect(try await w.thread().contains("deny any source"))
            #expect(w.h.meraki.requests(path: Self.path, method: "PUT").isEmpty)
        }
    }
}
