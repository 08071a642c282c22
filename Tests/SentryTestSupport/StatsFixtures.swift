import Foundation
import SentryStore

@testable import SentryCore

/// A seeded week of alerts for the stats tests: known counts, times and containment outcomes.
public enum StatsFixtures {
    /// A Monday 09:00 UTC (2026-11-30), the end of the seeded week.
    public static let now = Date(timeIntervalSince1970: 1_796_029_200)
    public static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    public static func alert(
        _ id: String, playbook: String, detection: String, subject: Subject, hoursAgo: Double, ackAfter: TimeInterval? = nil,
        resolveAfter: TimeInterval? = nil, dismiss: Bool = false, containments: [Containment.Status] = []
    ) -> Alert {
        let created = now.addingTimeInterval(-hoursAgo * 3_600)
        let book = Playbook(id: playbook, title: playbook, detection: detection, severity: .high, ackTimeout: 900)
        let found = Detection(id: "evt-\(id)", detection: detection, severity: .high, title: "t \(id)", subject: subject, occurredAt: created)
        var alert = AlertMachine.handle(nil, .detectionReceived(found, playbook: book, channel: "C0SECALERTS"), alertID: id, now: created).alert!
        if let ackAfter {
            alert.status = .acknowledged
            alert.acknowledgedBy = "U0ALICE"
            alert.acknowledgedAt = created.addingTimeInterval(ackAfter)
        }
        if let resolveAfter {
            alert.status = dismiss ? .dismissed : .resolved
            alert.closedBy = "U0BOB"
            alert.closedAt = created.addingTimeInterval(resolveAfter)
        }
        alert.containments = containments.enumerated().map { index, status in
            var item = Containment(
                id: "C-\(id)-\(index)", kind: .blockIP, target: "203.0.113.\(index)", reason: "r", ttl: 3_600, requestedBy: "U0ALICE",
                requestedAt: created, approvalsRequired: 1, approvals: [], status: status, dryRun: false)
            if status == .active || status == .released {
                item.approvals = ["U0BOB"]
                item.activeSince = created.addingTimeInterval(60)
            }
            if status == .rejected { item.rejectedBy = "U0BOB" }
            return item
        }
        return alert
    }

    /// 6 alerts in the last 7 days (one of them 8 days old, outside), over two playbooks.
    public static func alerts() -> [Alert] {
        let ip = Subject(ip: "203.0.113.7")
        let user = Subject(slackUserID: "U024BE7LH")
        return [
            alert("A-1", playbook: "failed-logins", detection: "slack.failed_logins_by_ip", subject: ip, hoursAgo: 1, ackAfter: 60),
            alert(
                "A-2", playbook: "failed-logins", detection: "slack.failed_logins_by_ip", subject: ip, hoursAgo: 26, ackAfter: 120,
                resolveAfter: 3_600, containments: [.active, .released]),
            alert(
                "A-3", playbook: "failed-logins", detection: "slack.failed_logins_by_ip", subject: ip, hoursAgo: 50, ackAfter: 300,
                resolveAfter: 7_200, containments: [.rejected]),
            alert(
                "A-4", playbook: "downloads", detection: "slack.mass_download", subject: user, hoursAgo: 51, ackAfter: 600, resolveAfter: 600,
                dismiss: true),
            alert("A-5", playbook: "downloads", detection: "slack.mass_download", subject: user, hoursAgo: 100, containments: [.awaitingApproval]),
            alert(
                "A-6", playbook: "failed-logins", detection: "slack.failed_logins_by_ip", subject: ip, hoursAgo: 150, ackAfter: 1_200,
                resolveAfter: 86_400),
            alert("A-OLD", playbook: "downloads", detection: "slack.mass_download", subject: user, hoursAgo: 8 * 24, ackAfter: 5, resolveAfter: 10),
        ]
    }

    /// The stats of the seeded week, up to `now`.
    public static func week() -> AlertStats {
        AlertStats(rows: alerts().map(AlertStatsRow.init), from: now.addingTimeInterval(-7 * 86_400), to: now, calendar: utc)
    }

    /// Writes `alerts` as created, each in its own transaction, as the engine writes a new alert.
    public static func seed(_ store: any AlertStore, _ alerts: [Alert]) async throws {
        for alert in alerts {
            let created = Transition(alert: alert, outcome: .applied)
            try await store.transaction { tx in try await tx.write(TransitionRecord(created, alertID: alert.id, revision: nil), now: alert.createdAt)
            }
        }
    }
}
