import Foundation

/// Where an alert's Slack message lives.
public struct MessageRef: Codable, Equatable, Hashable, Sendable {
    public var channel: String
    public var ts: String
    public init(channel: String, ts: String) {
        self.channel = channel
        self.ts = ts
    }
}

public enum AlertStatus: String, Codable, Sendable, CaseIterable {
    case open, acknowledged, resolved, dismissed

    /// Resolved and dismissed alerts take no more actions and group no more detections.
    public var isFinished: Bool { self == .resolved || self == .dismissed }
}

/// What a playbook said when the alert was created; kept with the alert so editing a playbook
/// never changes the rules for alerts already in flight.
public struct AlertPolicy: Codable, Equatable, Sendable {
    public var ackTimeout: Int?
    public var escalation: Escalation?
    public var actions: [ContainmentAction]
    /// `false` when the playbook said `auto_resolve: false`: the engine's resolve is noted, never applied.
    /// nil (the default, and every alert stored before) lets the engine resolve.
    public var autoResolve: Bool?
    /// `confirm_with_subject`: ask the alert's Slack user whether it was them (nil: never asked).
    public var confirm: ConfirmSettings?

    public init(
        ackTimeout: Int? = nil, escalation: Escalation? = nil, actions: [ContainmentAction] = [], autoResolve: Bool? = nil,
        confirm: ConfirmSettings? = nil
    ) {
        self.ackTimeout = ackTimeout
        self.escalation = escalation
        self.actions = actions
        self.autoResolve = autoResolve
        self.confirm = confirm
    }

    public init(_ playbook: Playbook) {
        self.init(
            ackTimeout: playbook.ackTimeout, escalation: playbook.escalation, actions: playbook.actions,
            autoResolve: playbook.autoResolve ? nil : false, confirm: playbook.confirmWithSubject)
    }

    /// Whether an engine's resolve may resolve the alert.
    public var engineMayResolve: Bool { autoResolve ?? true }
}

/// One incident as responders see it: a Slack message with buttons, its state and its history.
public struct Alert: Codable, Equatable, Sendable {
    public var id: String
    public var playbookID: String
    public var detection: String
    public var severity: Severity
    public var title: String
    public var summary: String?
    public var subject: Subject
    public var evidence: JSONValue?
    public var channel: String
    public var status: AlertStatus
    public var createdAt: Date
    public var updatedAt: Date
    public var lastOccurredAt: Date
    public var occurrences: Int
    /// Detection and subject: what grouping compares.
    public var groupKey: String
    /// Until when new detections with the same group key are counted on this alert.
    public var groupUntil: Date
    public var acknowledgedBy: String?
    public var acknowledgedAt: Date?
    public var closedBy: String?
    public var closedAt: Date?
    public var escalations: Int
    public var message: MessageRef?
    public var postFailure: String?
    public var policy: AlertPolicy
    /// Blocks requested on this alert, oldest first.
    public var containments: [Containment] = []
    /// Created by `/sentry block-ip` rather than a detection.
    public var manual: Bool = false
    /// Back to the engine that sent the detection; a link button on the message. Absent in alerts stored before.
    public var link: String?
    /// Quieted by a responder until a time (absent in alerts stored before snoozes existed).
    public var snooze: Snooze?
    /// The engine alerts grouped here that their engine has not yet said are over (`Detection.engineAlert`),
    /// oldest first; nil on alerts of other detections.
    public var engineFiring: [String]?
    /// The engine's last word that this alert is over, whether it resolved the alert or was only noted.
    public var engineResolution: EngineResolution?
    /// Set when the engine resolved the alert (its name, for "Resolved by Alertmanager"); `closedBy` is then nil.
    public var resolvedByEngine: String?
    /// The question put to the subject (`confirm_with_subject`), and its answer; nil when none was asked.
    public var confirmation: Confirmation?

    /// Who closed the alert, as the message says it: a mention, or the engine's name.
    public var closer: String? {
        if let engine = resolvedByEngine, status == .resolved { return engine }
        return closedBy.map(SlackID.mention)
    }

    /// The snooze, while it is in force.
    public func snoozed(at now: Date) -> Snooze? {
        guard let snooze, snooze.inForce(at: now), !status.isFinished else { return nil }
        return snooze
    }

    public static func groupKey(detection: String, subject: Subject) -> String {
        detection + "|" + subject.key
    }
}
