import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// The App Home tab: what responders and everyone else see, inside Slack's limits.
@Suite struct CoreHomeViewTests {
    typealias F = CoreFixtures

    private func alert(_ id: String, severity: Severity, age: TimeInterval, acknowledgedBy: String? = nil) -> Alert {
        var alert = F.openAlert(id: id, now: F.t0.addingTimeInterval(-age))
        alert.severity = severity
        if let acknowledgedBy {
            alert.status = .acknowledged
            alert.acknowledgedBy = acknowledgedBy
        }
        alert.message = MessageRef(channel: F.channel, ts: "1.\(id.count)")
        return alert
    }

    @Test func respondersSeeAlertsMostSevereFirstWithAgeHolderAndLink() throws {
        let snapshot = HomeView.Snapshot(
            alerts: [alert("A-LOW", severity: .low, age: 60), alert("A-CRIT", severity: .critical, age: 7_200, acknowledgedBy: F.alice)],
            last24h: 2, last7d: 9, responders: [F.alice])
        let view = HomeView.render(snapshot, responder: true, now: F.t0)
        #expect(view["type"] == "home")
        #expect(BlockKitCheck.homeProblem(view) == nil)
        let text = view.encoded()
        let critical = try #require(text.range(of: "A-CRIT"))
        let low = try #require(text.range(of: "A-LOW"))
        #expect(critical.lowerBound < low.lowerBound)
        #expect(text.contains("2h old"))
        #expect(text.contains("held by <@\(F.alice)>"))
        #expect(text.contains("not acknowledged"))
        #expect(text.contains("message_ts="))
        #expect(text.contains("2 in the last 24 h, 9 in the last 7 days"))
    }

    @Test func activeContainmentsShowTimeLeftAndUnblockAndSnoozesShowUnsnooze() throws {
        var blocked = alert("A-BLK", severity: .high, age: 600)
        var item = Containment(
            id: "C-1", kind: .blockIP, target: "203.0.113.7", reason: "spray", ttl: 3_600, requestedBy: F.alice, requestedAt: F.t0,
            approvalsRequired: 0, approvals: [], status: .active, dryRun: false)
        item.activeUntil = F.t0.addingTimeInterval(1_800)
        blocked.containments = [item]
        blocked.snooze = Snooze(by: F.bob, reason: "known", since: F.t0, until: F.t0.addingTimeInterval(3_600), suppressed: 3)
        let view = HomeView.render(HomeView.Snapshot(alerts: [blocked], last24h: 1, last7d: 1, responders: []), responder: true, now: F.t0)
        #expect(BlockKitCheck.homeProblem(view) == nil)
        let text = view.encoded()
        #expect(text.contains("30m left"))
        #expect(text.contains("\"action_id\":\"unblock\"") && text.contains("\"value\":\"C-1\""))
        #expect(text.contains("\"action_id\":\"unsnooze\""))
        #expect(text.contains("3 since"))
    }

    @Test func aThousandAlertsStayUnder100Blocks() throws {
        let alerts = (0..<1_000).map { alert("A-\($0)", severity: .medium, age: Double($0)) }
        let view = HomeView.render(HomeView.Snapshot(alerts: alerts, last24h: 1_000, last7d: 1_000, responders: []), responder: true, now: F.t0)
        #expect(BlockKitCheck.homeProblem(view) == nil)
        #expect((view["blocks"]?.arrayValue?.count ?? 0) <= 100)
        #expect(view.encoded().contains("and 970 more"))
    }

    @Test func moreOpenAlertsThanTheStoreReadAreCountedAndABlockOnAClosedAlertStays() throws {
        let alerts = (0..<500).map { alert("A-\($0)", severity: .medium, age: Double($0)) }
        var resolved = alert("A-DONE", severity: .high, age: 90_000)
        resolved.status = .resolved
        var item = Containment(
            id: "C-9", kind: .blockIP, target: "203.0.113.9", reason: "spray", ttl: 7_200, requestedBy: F.alice, requestedAt: F.t0,
            approvalsRequired: 0, approvals: [], status: .active, dryRun: false)
        item.activeUntil = F.t0.addingTimeInterval(3_600)
        resolved.containments = [item]
        let snapshot = HomeView.Snapshot(
            alerts: alerts, openCount: 2_345, holdingContainments: [resolved], snoozed: [], last24h: 2_345, last7d: 2_345, responders: [])
        let view = HomeView.render(snapshot, responder: true, now: F.t0)
        #expect(BlockKitCheck.homeProblem(view) == nil)
        let text = view.encoded()
        #expect(text.contains("Open alerts (2345)"))
        #expect(text.contains("and 2315 more (the most severe of the newest 500)"))
        #expect(text.contains("Active containments (1)"))
        #expect(text.contains("alert `A-DONE` (resolved)") && text.contains("\"value\":\"C-9\""))
    }

    @Test func theWorstCaseTabStaysInsideSlacksLimits() throws {
        let long = String(repeating: "W", count: 400)
        let alerts = (0..<500).map { index -> Alert in
            var alert = alert("A-\(index)", severity: .critical, age: Double(index))
            alert.title = long
            alert.containments = (0..<5).map { slot in
                var item = Containment(
                    id: "C-\(index)-\(slot)", kind: .blockIP, target: "203.0.\(slot).\(index % 250)", reason: long, ttl: 3_600, requestedBy: F.alice,
                    requestedAt: F.t0, approvalsRequired: 0, approvals: [], status: .active, dryRun: false)
                item.activeUntil = F.t0.addingTimeInterval(Double(60 * (slot + 1)))
                return item
            }
            alert.snooze = Snooze(by: F.bob, reason: long, since: F.t0, until: F.t0.addingTimeInterval(3_600), suppressed: 9_999)
            return alert
        }
        let collectors = (0..<12).map { HomeView.Collector(name: "collector-\($0) \(long)", lastSuccessAt: nil, failedPolls: 99, lastError: long) }
        let snapshot = HomeView.Snapshot(
            alerts: alerts, openCount: 99_999, last24h: 99_999, last7d: 999_999, responders: [], collectors: collectors)
        let view = HomeView.render(snapshot, responder: true, now: F.t0)
        #expect(BlockKitCheck.homeProblem(view) == nil)
        #expect((view["blocks"]?.arrayValue?.count ?? 0) <= 100)
    }

    @Test func everyoneElseSeesWhatTheBotIsAndWhoAnswers() {
        let view = HomeView.render(
            HomeView.Snapshot(alerts: [], last24h: 0, last7d: 0, responders: [F.alice, "S0SECTEAM"]), responder: false, now: F.t0)
        #expect(BlockKitCheck.homeProblem(view) == nil)
        let text = view.encoded()
        #expect(text.contains("<@\(F.alice)>") && text.contains("<!subteam^S0SECTEAM>"))
        #expect(!text.contains("Open alerts"))
    }

    @Test func collectorsSayWhenTheyLastReadTheirSourceAndTheirLastError() throws {
        let collectors = [
            HomeView.Collector(name: "slack_audit", lastSuccessAt: F.t0.addingTimeInterval(-120), lag: 90),
            HomeView.Collector(
                name: "meraki_uplinks", lastSuccessAt: F.t0.addingTimeInterval(-3_600), failedPolls: 7,
                lastError: "source: connection refused\nstack trace line"),
            HomeView.Collector(name: "syslog", lastSuccessAt: nil),
            HomeView.Collector(name: "pollers_elsewhere", lastSuccessAt: nil, runsOn: "pod-b:1:42"),
        ]
        let view = HomeView.render(
            HomeView.Snapshot(alerts: [], last24h: 0, last7d: 0, responders: [], collectors: collectors), responder: true, now: F.t0)
        #expect(BlockKitCheck.homeProblem(view) == nil)
        let text = view.encoded()
        #expect(text.contains(":large_green_circle: *slack_audit* · last read 2m ago · 90s behind its source"))
        #expect(text.contains(":warning: *meraki_uplinks* · last read 1h ago · 7 failed · last error: source: connection refused"))
        #expect(!text.contains("stack trace line"))
        #expect(text.contains(":hourglass: *syslog* · not read yet"))
        #expect(text.contains("*pollers_elsewhere* · runs on the pollers' leader, `pod-b:1:42`"))
        // No collector: said so; visitors see none of it.
        let none = HomeView.render(HomeView.Snapshot(alerts: [], last24h: 0, last7d: 0, responders: []), responder: true, now: F.t0).encoded()
        #expect(none.contains("No collector is configured"))
        let visitor = HomeView.render(
            HomeView.Snapshot(alerts: [], last24h: 0, last7d: 0, responders: [], collectors: collectors), responder: false, now: F.t0)
        #expect(!visitor.encoded().contains("slack_audit"))
    }
}
