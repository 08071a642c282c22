import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryDetect
import SentryServer
import SentryStore
import SentryTesting

/// The LTE act of `sentry demo`: an appliance fails over to cellular, approved-only is applied at once, the primary
/// uplink comes back and the rules are removed, other admins' cellular rules untouched.
extension Demo {
    struct FailoverStage {
        let slack: SlackSimulator
        let meraki: MerakiSimulator
        let merakiURL: String
        let store: SQLiteAlertStore
        let transport: CurlTransport
        let wake: @Sendable () -> Void
    }

    static let demoMX = "Q234-ABCD-0001"

    func failoverAct(_ stage: FailoverStage, firstStep: Int) async throws {
        let quiet = Logger(label: "sentry", factory: { _ in SwiftLogNoOpLogHandler() })
        let playbooks = try DemoPlaybooks.files.compactMap { PlaybookLoader.parse($0.yaml, file: $0.name).playbook }
        // What `sentry serve` runs when MERAKI_API_KEY is set: the uplink collector feeding the rule pipeline.
        let pipeline = try await DetectionPipeline(
            playbooks: playbooks, store: stage.store, channel: Self.channel, now: { Date() }, logger: quiet, onAlerts: stage.wake)
        let client = MerakiClient(
            transport: stage.transport, baseURL: stage.merakiURL, apiKey: Self.merakiKey, organizationID: stage.meraki.organizationID,
            limiter: TokenBucket(capacity: 10, refillPerSecond: 10), logger: quiet)
        let collector = MerakiUplinkCollector(source: client, store: stage.store, sink: pipeline, interval: .seconds(60), logger: quiet)
        let network = MerakiSimulator.mainOffice
        func report(wan1: String, cellular: String) async {
            let stamp = Timestamp.iso8601(Date())
            stage.meraki.editUplinks { uplinks in
                for index in uplinks.indices where uplinks[index]["serial"]?.stringValue == Self.demoMX {
                    guard case .object(var item) = uplinks[index], case .array(var links)? = item["uplinks"] else { continue }
                    for link in links.indices {
                        guard case .object(var fields) = links[link] else { continue }
                        fields["status"] = .string(fields["interface"]?.stringValue == "wan1" ? wan1 : cellular)
                        links[link] = .object(fields)
                    }
                    item["uplinks"] = .array(links)
                    item["lastReportedAt"] = .string(stamp)
                    uplinks[index] = .object(item)
                }
            }
            await collector.pollOnce(now: Date())
        }
        func rules() -> [String] {
            stage.meraki.cellularRules(networkID: network).map { rule in
                "\(rule["policy"]?.stringValue ?? "?") \(rule["srcCidr"]?.stringValue ?? "?") — \(rule["comment"]?.stringValue ?? "")"
            }
        }

        await report(wan1: "active", cellular: "ready")
        let before = stage.slack.topLevelMessages(channel: Self.channel).count
        step(firstStep, "Main Office MX loses wan1 and fails over to cellular; the uplink collector sees it on its next poll")
        out("    Cellular failover rules before (another admin's): \(rules())")
        await report(wan1: "failed", cellular: "active")
        try await expect(await stage.slack.waitUntil { $0.topLevelMessages(channel: Self.channel).count == before + 1 }, "failover alert posted")
        let alert = stage.slack.topLevelMessages(channel: Self.channel)[before]
        out("    Sentry posted: \(line(alert, containing: "failed over"))")
        try await expect(await stage.slack.waitUntil { $0.replies(to: alert.ts).contains { $0.text.contains("automatically") } }, "auto reply")
        let auto = Transcript.plain(stage.slack.replies(to: alert.ts).first { $0.text.contains("automatically") }?.text ?? "")
        out("    Thread reply: " + auto.replacingOccurrences(of: "\n", with: "\n      "))

        step(firstStep + 1, "Approved-only is in place: only business devices may use the LTE link")
        try await expect(await stage.slack.waitUntil { $0.replies(to: alert.ts).contains { $0.text.contains("in place until") } }, "rules written")
        out("    Meraki \(network) cellular rules now:")
        for rule in rules() { out("      \(rule)") }

        step(firstStep + 2, "wan1 is back; Sentry waits for it to stay up for the playbook's 2 s debounce")
        await report(wan1: "active", cellular: "ready")
        try await expect(await stage.slack.waitUntil { $0.replies(to: alert.ts).contains { $0.text.contains("active again") } }, "primary back")
        out("    Thread reply: \(Transcript.plain(stage.slack.replies(to: alert.ts).first { $0.text.contains("active again") }?.text ?? ""))")

        step(firstStep + 3, "It stayed up: our rules are removed, the other admin's rule stays")
        try await expect(
            await stage.slack.waitUntil(timeout: .seconds(20)) {
                $0.replies(to: alert.ts).contains { $0.text.contains("rolled back (the primary uplink") }
            }, "rollback")
        out(
            "    Thread reply: \(Transcript.plain(stage.slack.replies(to: alert.ts).first { $0.text.contains("rolled back (the primary uplink") }?.text ?? ""))"
        )
        out("    Meraki \(network) cellular rules now: \(rules())")
    }
}
