import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// Grouping that matches the engine (issue 16 point 5): Alertmanager's re-notifications and Azure's retries.
@Suite struct EngineRenotifyTests {
    /// `alertmanager/firing.json` with its alerts edited.
    static func alertmanagerGroup(_ edit: (inout [JSONValue]) -> Void) throws -> [UInt8] {
        var body = try #require(JSONValue.parse(try EngineHooks.sample("alertmanager/firing.json"))?.objectValue)
        var alerts = try #require(body["alerts"]?.arrayValue)
        edit(&alerts)
        body["alerts"] = .array(alerts)
        return Array(JSONValue.object(body).encoded().utf8)
    }

    @Test func reNotificationChangesNothingUntilTheGroupChanges() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let first = try await h.engineSample("alertmanager/firing.json")
            let ids = (first.json?["alerts"]?.arrayValue ?? []).compactMap { $0["alert_id"]?.stringValue }
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 2 })
            #expect(await h.settled())
            // group_interval later, the same group: nothing moves.
            h.clock.advance(by: 300)
            let again = try await h.engineSample("alertmanager/firing.json")
            #expect(again.json?["alerts"]?.arrayValue?.map { $0["status"]?.stringValue } == ["duplicate", "duplicate"])
            #expect(await h.settled())
            #expect(h.simulator.topLevelMessages().allSatisfy { $0.edits == 0 })
            for id in ids { #expect(try await h.store.alert(id: id)?.occurrences == 1) }
            // One alert added on the first one's subject (another job on the same instance): it is counted there.
            let added = try Self.alertmanagerGroup { alerts in
                guard var extra = alerts[0].objectValue, var labels = extra["labels"]?.objectValue else { return }
                labels["job"] = "blackbox"
                extra["labels"] = .object(labels)
                extra["fingerprint"] = "0f0f0f0f0f0f0f0f"
                alerts.append(.object(extra))
            }
            h.clock.advance(by: 300)
            let grown = try await h.engineHook("alertmanager", added)
            #expect(grown.json?["alerts"]?.arrayValue?.map { $0["status"]?.stringValue } == ["duplicate", "duplicate", "grouped"])
            #expect(await h.settled())
            let alert = try #require(try await h.store.alert(id: ids[0]))
            #expect(alert.occurrences == 2)
            #expect(alert.engineFiring?.count == 2)
            #expect(h.simulator.topLevelMessages().first { $0.ts == alert.message?.ts }?.edits == 1)
            // One of the two resolving leaves the alert open; the thread says one is still firing.
            let partly = try Self.alertmanagerGroup { alerts in
                guard var first = alerts[0].objectValue else { return }
                first["status"] = "resolved"
                first["endsAt"] = "2026-11-30T09:41:52.482Z"
                alerts = [.object(first)]
            }
            _ = try await h.engineHook("alertmanager", partly)
            #expect(await h.settled())
            #expect(try await h.store.alert(id: ids[0])?.status == .open)
            let ts = try #require(alert.message?.ts)
            #expect(h.simulator.replies(to: ts).contains { $0.text.contains("1 still firing") })
        }
    }

    @Test func truncatedGroupSaysSoInTheMessage() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let answer = try await h.engineSample("alertmanager/truncated.json")
            #expect(answer.status == 202)
            #expect(await h.simulator.waitUntil { !$0.topLevelMessages().isEmpty })
            #expect(await h.settled())
            for message in h.simulator.topLevelMessages() {
                #expect(message.blocks?.encoded().contains("left 3 more alerts of this group out of its message (max_alerts)") == true)
            }
        }
    }

    @Test func azureRetriesAreDuplicates() async throws {
        try await withHarness(playbooks: EngineHooks.playbooks) { h in
            let first = try await h.engineSample("azure-monitor/log-search.fired.json")
            let id = try #require(first.json?["alert_id"]?.stringValue)
            for _ in 0..<3 {
                let retry = try await h.engineSample("azure-monitor/log-search.fired.json")
                #expect(
                    retry.json == [
                        "engine": "azure-monitor", "alert_id": .string(id), "status": "duplicate", "alerts": retry.json?["alerts"] ?? .null,
                    ])
            }
            let resolved = try await h.engineSample("azure-monitor/log-search.resolved.json")
            #expect(resolved.json?["status"]?.stringValue == "resolved")
            let retried = try await h.engineSample("azure-monitor/log-search.resolved.json")
            #expect(retried.json?["status"]?.stringValue == "duplicate")
            #expect(await h.settled())
            let alert = try #require(try await h.store.alert(id: id))
            #expect(alert.occurrences == 1)
            #expect(alert.status == .resolved)
            #expect(h.simulator.replies(to: alert.message?.ts ?? "").filter { $0.text.contains("Resolved by Azure Monitor") }.count == 1)
        }
    }
}
