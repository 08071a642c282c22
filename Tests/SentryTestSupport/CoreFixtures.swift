import Foundation

@testable import SentryCore

/// Shared inputs of the Core and Store tests: files beside the repository, playbooks, detections, alerts.
public enum CoreFixtures {
    /// `/…/main` — this file is `main/Tests/SentryTestSupport/CoreFixtures.swift`; the one `#filePath` of the tests.
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // SentryTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // main

    /// `Tests/Golden`, the golden JSON files of Slack messages, views and intake mappings.
    public static let golden: URL = repoRoot.appendingPathComponent("Tests/Golden")

    /// `Playbooks`, the playbooks the product ships.
    public static let playbooks: URL = repoRoot.appendingPathComponent("Playbooks")

    /// `../shared`, the sibling of the repository (locally and on CI).
    public static let shared: URL = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")

    public static func sharedBytes(_ relative: String) throws -> [UInt8] {
        let url = shared.appendingPathComponent(relative)
        return Array(try Data(contentsOf: url))
    }

    /// A sample file as an HTTP body: the sample files end with one newline that a request body would not carry.
    public static func sharedBody(_ relative: String) throws -> [UInt8] {
        var bytes = try sharedBytes(relative)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        return bytes
    }

    public static let t0 = Date(timeIntervalSince1970: 1_790_000_000)
    public static let channel = "C0ALERTS1"
    public static let alice = "U0ALICE1"
    public static let bob = "U0BOB1"

    public static func playbook(
        ackTimeout: Int? = 900, escalation: Escalation? = nil, actions: [ContainmentAction] = [],
        groupingWindow: Int = 3_600, severity: Severity = .medium
    ) -> Playbook {
        Playbook(
            id: "failed-logins", title: "Failed logins", detection: "slack.failed_logins_by_ip", severity: severity,
            groupingWindow: groupingWindow, ackTimeout: ackTimeout, escalation: escalation, actions: actions)
    }

    public static func detection(
        id: String = "det-1", detection: String = "slack.failed_logins_by_ip", severity: Severity? = nil,
        title: String? = nil, subject: Subject = Subject(ip: "203.0.113.7"), evidence: JSONValue? = nil,
        occurredAt: Date? = nil
    ) -> Detection {
        Detection(
            id: id, detection: detection, severity: severity, title: title, summary: nil, subject: subject,
            evidence: evidence, occurredAt: occurredAt)
    }

    /// An open alert as the machine creates it.
    public static func openAlert(
        id: String = "A1", playbook: Playbook = CoreFixtures.playbook(), detection: Detection = CoreFixtures.detection(),
        now: Date = CoreFixtures.t0
    ) -> Alert {
        let transition = AlertMachine.handle(
            nil, .detectionReceived(detection, playbook: playbook, channel: channel), alertID: id, now: now)
        return transition.alert!
    }

    public static func alert(_ status: AlertStatus, playbook: Playbook = CoreFixtures.playbook()) -> Alert {
        var alert = openAlert(playbook: playbook)
        switch status {
        case .open:
            break
        case .acknowledged:
            alert.status = .acknowledged
            alert.acknowledgedBy = alice
            alert.acknowledgedAt = t0.addingTimeInterval(60)
        case .resolved, .dismissed:
            alert.status = status
            alert.closedBy = alice
            alert.closedAt = t0.addingTimeInterval(120)
        }
        return alert
    }
}

extension AlertEffect {
    /// The case name, for comparing the shape of an effect list.
    public var coreKind: String {
        switch self {
        case .postAlert: "postAlert"
        case .updateMessage: "updateMessage"
        case .replyInThread: "replyInThread"
        case .postNotice: "postNotice"
        case .postReport: "postReport"
        case .tellUser: "tellUser"
        case .scheduleTimer: "scheduleTimer"
        case .cancelTimer: "cancelTimer"
        case .executeContainment: "executeContainment"
        case .releaseContainment: "releaseContainment"
        case .askSubject: "askSubject"
        case .updateQuestion: "updateQuestion"
        }
    }

    public var coreText: String? {
        switch self {
        case .replyInThread(let text), .postNotice(_, let text), .postReport(_, let text, _), .tellUser(_, let text, _): text
        default: nil
        }
    }
}
