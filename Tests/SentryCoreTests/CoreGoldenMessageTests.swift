import Foundation
import SentryTestSupport
import SentryTesting
import Testing

@testable import SentryCore

/// Every message kind the bot sends, compared with a reviewed copy in Tests/SentryTests/Golden and checked
/// against Block Kit's limits. After an intended change: `SENTRY_UPDATE_GOLDEN=1 swift test --filter Golden`,
/// then review the diff of the JSON files.
@Suite struct CoreGoldenMessageTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_338_000)  // 2026-11-22T09:00:00Z

    static func alert() -> Alert {
        let playbook = Playbook(
            id: "slack-failed-logins-by-ip", title: "Many failed Slack logins from one IP address", detection: "slack.failed_logins_by_ip",
            severity: .high, ackTimeout: 900, escalation: Escalation(mention: ["S0SECONCALL"], repeatCount: 2),
            actions: [ContainmentAction(kind: .blockIP, approvals: 1, ttl: 14_400)])
        let detection = Detection(
            id: "evt-1", detection: "slack.failed_logins_by_ip", severity: .high, title: "40 failed Slack logins from 203.0.113.7",
            summary: "40 `user_login_failed` from 203.0.113.7 in 10 minutes against 6 accounts <!channel>",
            subject: Subject(slackUserID: "U024BE7LH", ip: "203.0.113.7"),
            evidence: ["count": 40, "window": "10m", "user_agent": "python-requests/2.31", "note": "```closing fence``` & <@U999>"], occurredAt: t0)
        return AlertMachine.handle(nil, .detectionReceived(detection, playbook: playbook, channel: "C0SECALERTS"), alertID: "A-7K3M9Q2X", now: t0)
            .alert!
    }

    static func containment(_ status: Containment.Status) -> Containment {
        var item = Containment(
            id: "C-4TQ9W2ZB", kind: .blockIP, target: "203.0.113.7", reason: "password spraying", ttl: 14_400, requestedBy: "U0ALICE",
            requestedAt: t0, approvalsRequired: 1, approvals: [], status: status, dryRun: false)
        switch status {
        case .active:
            item.approvals = ["U0BOB"]
            item.activeSince = t0
            item.activeUntil = t0.addingTimeInterval(14_400)
        case .failed:
            item.failedPhase = .execute
            item.failure = "N_1: Meraki answered HTTP 404"
        case .released:
            item.releasedBy = "expiry"
            item.releasedAt = t0.addingTimeInterval(14_400)
        case .rejected:
            item.rejectedBy = "U0BOB"
        default:
            break
        }
        return item
    }

    static func kinds() -> [(String, JSONValue)] {
        var open = alert()
        open.message = MessageRef(channel: "C0SECALERTS", ts: "1795338000.000100")
        var acknowledged = open
        acknowledged.status = .acknowledged
        acknowledged.acknowledgedBy = "U0ALICE"
        acknowledged.acknowledgedAt = t0.addingTimeInterval(120)
        acknowledged.occurrences = 3
        acknowledged.escalations = 1
        var resolved = acknowledged
        resolved.status = .resolved
        resolved.closedBy = "U0BOB"
        resolved.closedAt = t0.addingTimeInterval(3_600)
        var dismissed = open
        dismissed.status = .dismissed
        dismissed.closedBy = "U0BOB"
        dismissed.closedAt = t0.addingTimeInterval(60)
        var contained = acknowledged
        contained.containments = [
            containment(.released), containment(.rejected), containment(.awaitingApproval), containment(.active), containment(.failed),
        ]
        for (index, id) in ["C-AAAAAAA1", "C-AAAAAAA2", "C-AAAAAAA3", "C-AAAAAAA4", "C-AAAAAAA5"].enumerated() {
            contained.containments[index].id = id
        }
        func message(_ alert: Alert) -> JSONValue {
            let rendered = AlertMessage.render(alert)
            return ["text": .string(rendered.text), "blocks": rendered.blocks]
        }
        let modal = ContainmentModal.view(
            ContainmentModal.Metadata(alertID: "A-7K3M9Q2X", kind: .blockIP, target: "10.0.0.12"), defaultTTL: 14_400, approvals: 1, minTTL: 60,
            maxTTL: 2_592_000, note: try! BlockTarget.ip("10.0.0.12").note, dryRun: true)
        let userModal = ContainmentModal.view(
            ContainmentModal.Metadata(alertID: "A-7K3M9Q2X", kind: .blockUser, target: "U024BE7LH"), defaultTTL: 86_400, approvals: 0, minTTL: 60,
            maxTTL: 2_592_000, note: "", dryRun: false)
        let uplinks = UplinksMessage.render(
            [
                UplinkRow(
                    networkID: "N_1", networkName: "Main Office", serial: "Q234-ABCD-0001", deviceName: "MX main", model: "MX68C", lastReportedAt: t0,
                    links: [
                        .init(interface: "wan1", status: "active", ip: "1.2.3.4", publicIP: "123.123.123.1"),
                        .init(interface: "cellular", status: "ready", ip: nil, publicIP: nil),
                    ]),
                UplinkRow(
                    networkID: "N_2", networkName: "Branch", serial: "Q234-ABCD-0005", deviceName: nil, model: nil, lastReportedAt: nil, links: []),
            ], heading: "Uplinks of 2 appliances")[0]
        var held = contained
        held.id = "A-3HLD9QZP"
        held.message = MessageRef(channel: "C0SECALERTS", ts: "1795338100.000200")
        held.snooze = Snooze(by: "U0BOB", reason: "known scanner", since: t0, until: t0.addingTimeInterval(7_200), suppressed: 4)
        let home = HomeView.render(
            HomeView.Snapshot(
                alerts: [open, held], last24h: 2, last7d: 11, responders: ["U0ALICE", "S0SECONCALL"],
                collectors: [
                    HomeView.Collector(name: "slack_audit", lastSuccessAt: t0.addingTimeInterval(-40), lag: 65),
                    HomeView.Collector(
                        name: "meraki_uplinks", lastSuccessAt: t0.addingTimeInterval(-900), failedPolls: 3,
                        lastError: "source: Meraki answered HTTP 503\nretry later"),
                    HomeView.Collector(name: "syslog", lastSuccessAt: nil),
                ]), responder: true, now: t0.addingTimeInterval(600))
        let visitor = HomeView.render(
            HomeView.Snapshot(alerts: [], last24h: 0, last7d: 0, responders: ["U0ALICE", "S0SECONCALL"]), responder: false, now: t0)
        let rendered = StatsMessage.render(StatsFixtures.week(), title: "Sentry — last 7 days")
        let stats: JSONValue = ["text": .string(rendered.text), "blocks": rendered.blocks]
        let weekly = WeeklyDigest.message(StatsFixtures.week(), week: "2026-W49")
        let digest: JSONValue = ["text": .string(weekly.text), "blocks": weekly.blocks]
        let escalation = AlertMachine.handle(open, .timerFired(.ackTimeout), alertID: open.id, now: t0.addingTimeInterval(900))
        let escalationText = escalation.effects.compactMap { if case .replyInThread(let text) = $0 { JSONValue.string(text) } else { nil } }
        return [
            ("alert-open", message(open)), ("alert-acknowledged", message(acknowledged)), ("alert-resolved", message(resolved)),
            ("alert-dismissed", message(dismissed)), ("alert-containments", message(contained)), ("modal-block-ip", modal),
            ("modal-block-user", userModal), ("uplinks", ["blocks": uplinks]), ("reply-escalation", .array(escalationText)),
            ("home-responder", home), ("home-visitor", visitor),
            ("stats", stats), ("digest", digest),
        ]
    }

    @Test(arguments: kinds().map(\.0))
    func messageMatchesItsGoldenCopyAndSlackLimits(_ name: String) throws {
        let value = try #require(Self.kinds().first { $0.0 == name }?.1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let rendered = String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
        let file = CoreFixtures.golden.appendingPathComponent("\(name).json")
        if ProcessInfo.processInfo.environment["SENTRY_UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: file, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(rendered == golden, "\(name) changed; if intended, regenerate with SENTRY_UPDATE_GOLDEN=1 and review the diff")
        #expect(BlockKitCheck.problem(value["blocks"]) == nil)
        if let text = value["text"]?.stringValue { #expect(text.count <= 4_000) }
        // Detection fields never reach Slack as live mentions or broken code blocks.
        #expect(!rendered.contains("<!channel>") && !rendered.contains("<@U999>"))
    }
}
