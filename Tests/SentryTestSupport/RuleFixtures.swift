import Foundation
import SentryCore

/// Playbooks and Slack audit events for the rule engine tests, on a fixed UTC day.
public enum RuleFixtures {
    public static let day0 = Date(timeIntervalSince1970: 1_795_392_000)  // 2026-11-20T00:00:00Z, a UTC midnight

    public static func playbook(_ detection: String, rule: JSONValue, window: Int = 3_600) -> Playbook {
        Playbook(
            id: detection, title: detection, detection: detection, severity: .high, groupingWindow: window, rule: rule, source: "\(detection).yml")
    }

    public static func event(
        _ action: String, at seconds: Double, id: String? = nil, user: String? = "W0USER1", ip: String? = nil, file: String? = nil,
        fileID: String? = nil, reason: String? = nil
    ) -> SecurityEvent {
        SecurityEvent(
            source: .slackAudit, id: id ?? "\(action)-\(seconds)-\(user ?? "")-\(ip ?? "")-\(file ?? "")", at: day0.addingTimeInterval(seconds),
            action: action,
            userID: user, ip: ip, fileID: fileID, fileName: file, reason: reason)
    }
}
