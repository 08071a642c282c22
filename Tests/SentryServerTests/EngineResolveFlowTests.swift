import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// Resolve from the engine through the server (issue 16 point 4): the alert resolved "by Alertmanager" with its
/// message updated and a thread reply, unless a responder is on it; out of order; and a firing after it.
@Suite struct EngineResolveFlowTests {
    /// Posts a sample and returns each detection's alert id, after their messages are posted.
    func fire(_ h: ServerHarness, _ file: String, body: [UInt8]? = nil) async throws -> [String] {
        let before = h.simulator.topLevelMessages().count
        let answer = try await h.engineHook(String(file.prefix { $0 != "/" }), body ?? EngineHooks.sample(file))
        #expect(answer.status == 202)
        let ids = (answer.json?["alerts"]?.arrayValue ?? []).compactMap { $0["alert_id"]?.stringValue }
        let fresh = Set(ids).count
        #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == before + fresh })
        for id in ids { #expect(await eventually { try await h.store.alert(id: id)?.message != nil }) }
        return ids
    }

    func replies(_ h: ServerHarness, _ alertID: String) async throws -> [String] {
        guard let ts = try await h.store.alert(id: alertID)?.message?.ts else { return [] }
        return h.simulator.replies(to: ts).map(\.text)
    }

    @Test func alertmanagerResolvesItsAlerts() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let ids = try await fire(h, "alertmanager/firing.json")
            #expect(ids.count == 2)
            let answer = try await h.engineSample("alertmanager/resolved.json")
            #expect(answer.status == 202)
            let entries = try #require(answer.json?["alerts"]?.arrayValue)
            #expect(entries.map { $0["status"]?.stringValue } == ["resolved", "resolved"])
            #expect(entries.map { $0["alert_status"]?.stringValue } == ["resolved", "resolved"])
            #expect(entries.compactMap { $0["alert_id"]?.stringValue } == ids)
            #expect(await h.settled())
            for id in ids {
                let alert = try #require(try await h.store.alert(id: id))
                #expect(alert.status == .resolved)
                #expect(alert.resolvedByEngine == "Alertmanager")
                let message = try #require(h.simulator.topLevelMessages().first { $0.ts == alert.message?.ts })
                #expect(message.edits >= 1)
                #expect(message.blocks?.encoded().contains("Resolved by Alertmanager") == true)
                #expect(try await replies(h, id).contains { $0.contains("Resolved by Alertmanager") })
            }
            // The resolve sent again is a duplicate.
            let again = try await h.engineSample("alertmanager/resolved.json")
            #expect(again.json?["alerts"]?.arrayValue?.allSatisfy { $0["status"]?.stringValue == "duplicate" } == true)
        }
    }

    @Test func acknowledgedAlertIsNotClosedByTheEngine() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let ids = try await fire(h, "grafana/firing.json")
            let id = try #require(ids.first)
            let ts = try #require(try await h.store.alert(id: id)?.message?.ts)
            _ = try await h.client.click("ack", value: id, user: ServerHarness.alice, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await h.store.alert(id: id)?.status == .acknowledged })
            let answer = try await h.engineSample("grafana/resolved.json")
            #expect(answer.json?["status"]?.stringValue == "resolved")
            #expect(answer.json?["alerts"]?.arrayValue?.first?["alert_status"]?.stringValue == "acknowledged")
            #expect(await h.settled())
            #expect(try await h.store.alert(id: id)?.status == .acknowledged)
            #expect(try await replies(h, id).contains { $0.contains("Grafana says this is over") && $0.contains("acknowledged it") })
        }
    }

    @Test func firingAfterAnEngineResolveOpensANewAlert() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let first = try await fire(h, "alertmanager/firing.json")
            _ = try await h.engineSample("alertmanager/resolved.json")
            #expect(await h.settled())
            // The same alerts fire again: same fingerprints, a later startsAt.
            let text = String(decoding: try EngineHooks.sample("alertmanager/firing.json"), as: UTF8.self)
                .replacingOccurrences(of: "2026-11-30T09:1", with: "2026-11-30T11:1")
            let second = try await fire(h, "alertmanager/firing.json", body: Array(text.utf8))
            #expect(second.count == 2)
            #expect(Set(second).isDisjoint(with: first))
            for id in second { #expect(try await h.store.alert(id: id)?.status == .open) }
        }
    }

    @Test func resolveBeforeFiringIsAppliedOnArrival() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let early = try await h.engineSample("azure-monitor/log-search.resolved.json")
            #expect(early.status == 202)
            #expect(early.json?["status"]?.stringValue == "remembered")
            #expect(try await h.store.countAlerts().isEmpty)
            let fired = try await h.engineSample("azure-monitor/log-search.fired.json")
            #expect(fired.json?["status"]?.stringValue == "created")
            #expect(fired.json?["alerts"]?.arrayValue?.first?["alert_status"]?.stringValue == "resolved")
            let id = try #require(fired.json?["alert_id"]?.stringValue)
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 1 })
            #expect(await h.settled())
            #expect(try await h.store.alert(id: id)?.resolvedByEngine == "Azure Monitor")
            // Its retry is now a duplicate of the alert it resolved.
            let retry = try await h.engineSample("azure-monitor/log-search.resolved.json")
            #expect(retry.json?["status"]?.stringValue == "duplicate")
            #expect(retry.json?["alert_id"]?.stringValue == id)
        }
    }

    @Test func earlyResolveIsForgottenAfterTheGroupingWindow() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            _ = try await h.engineSample("sentinel/incident.closed.json")
            h.clock.advance(by: 3_601)
            let fired = try await h.engineSample("sentinel/incident.created.json")
            #expect(fired.json?["alerts"]?.arrayValue?.first?["alert_status"]?.stringValue == "open")
        }
    }

    @Test func sentinelCloseResolvesWithItsClassification() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let id = try #require(try await fire(h, "sentinel/incident.created.json").first)
            let closed = try await h.engineSample("sentinel/incident.closed.json")
            #expect(closed.json?["alert_id"]?.stringValue == id)
            #expect(await h.settled())
            let alert = try #require(try await h.store.alert(id: id))
            #expect(alert.status == .resolved)
            #expect(alert.resolvedByEngine == "Microsoft Sentinel")
            let classification = try #require(alert.engineResolution?.classification)
            #expect(try await replies(h, id).contains { $0.contains("Resolved by Microsoft Sentinel") && $0.contains(classification) })
        }
    }

    @Test func autoResolveOffKeepsTheAlertOpen() async throws {
        let playbooks = EngineHooks.playbooks.map { playbook -> Playbook in
            var playbook = playbook
            if playbook.id == "engine-alertmanager" { playbook.autoResolve = false }
            return playbook
        }
        try await withHarness(playbooks: playbooks) { h in
            let ids = try await fire(h, "alertmanager/firing.json")
            _ = try await h.engineSample("alertmanager/resolved.json")
            #expect(await h.settled())
            for id in ids {
                #expect(try await h.store.alert(id: id)?.status == .open)
                #expect(await eventually { try await replies(h, id).contains { $0.contains("auto-resolve is off") } })
            }
        }
    }
}
