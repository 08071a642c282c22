/// A use case: which detection it answers, where alerts go, who may act, what containment is offered.
public struct Playbook: Codable, Equatable, Sendable {
    /// The detection id that matches every detection no other playbook answers.
    public static let catchAll = "*"

    public var id: String
    public var title: String
    public var detection: String
    public var severity: Severity
    public var channel: String?
    /// Seconds during which the same detection and subject are counted on the open alert.
    public var groupingWindow: Int
    /// Seconds an alert may stay unacknowledged before escalation; nil disables escalation.
    public var ackTimeout: Int?
    public var escalation: Escalation?
    public var actions: [ContainmentAction]
    public var responders: [String]
    /// Thresholds of built-in rules, read by the rule engine.
    public var rule: JSONValue?
    /// Sample cases run by `sentry playbooks test`.
    public var tests: JSONValue?
    /// Engine detections: which of the engine's fields fills which subject field (`ip: labels.client_ip`),
    /// instead of the adapter's choice. Keys are subject field names; values are paths of `EngineDetection.fields`.
    public var subjectFrom: [String: String]
    /// Whether an engine's resolve (`status: resolved`, `monitorCondition: Resolved`, a closed incident) may
    /// resolve the alert; `auto_resolve: false` leaves it to the responders.
    public var autoResolve: Bool
    /// `confirm_with_subject`: ask the alert's Slack user whether it was them.
    public var confirmWithSubject: ConfirmSettings?
    /// Where it was read from, for messages.
    public var source: String

    public init(
        id: String, title: String, detection: String, severity: Severity, channel: String? = nil,
        groupingWindow: Int = 3_600, ackTimeout: Int? = nil, escalation: Escalation? = nil,
        actions: [ContainmentAction] = [], responders: [String] = [], rule: JSONValue? = nil,
        tests: JSONValue? = nil, subjectFrom: [String: String] = [:], autoResolve: Bool = true,
        confirmWithSubject: ConfirmSettings? = nil, source: String = "(built in)"
    ) {
        self.id = id
        self.title = title
        self.detection = detection
        self.severity = severity
        self.channel = channel
        self.groupingWindow = groupingWindow
        self.ackTimeout = ackTimeout
        self.escalation = escalation
        self.actions = actions
        self.responders = responders
        self.rule = rule
        self.tests = tests
        self.subjectFrom = subjectFrom
        self.autoResolve = autoResolve
        self.confirmWithSubject = confirmWithSubject
        self.source = source
    }
}

/// Who is re-mentioned, and where, when an alert is not acknowledged in time.
public struct Escalation: Codable, Equatable, Sendable {
    /// User ids, user-group ids, or `here`/`channel`.
    public var mention: [String]
    /// Escalation channel; nil means a reply in the alert's thread.
    public var channel: String?
    /// How many times at most, one acknowledgement timeout apart.
    public var repeatCount: Int

    public init(mention: [String], channel: String? = nil, repeatCount: Int = 1) {
        self.mention = mention
        self.channel = channel
        self.repeatCount = repeatCount
    }
}

/// A containment the playbook offers on its alerts.
public struct ContainmentAction: Codable, Equatable, Sendable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        case blockUser = "block_user"
        case blockIP = "block_ip"
        /// While an appliance runs on cellular, only the approved sources may use it (cellular firewall rules).
        case approvedOnly = "approved_only"
    }
    public var kind: Kind
    /// Distinct responders other than the requester who must approve; 0 runs at once.
    public var approvals: Int
    /// Default time-to-live in seconds.
    public var ttl: Int
    /// What approved-only writes and when; set for `approved_only` only.
    public var approvedOnly: ApprovedOnlySettings?

    public init(kind: Kind, approvals: Int, ttl: Int, approvedOnly: ApprovedOnlySettings? = nil) {
        self.kind = kind
        self.approvals = approvals
        self.ttl = ttl
        self.approvedOnly = approvedOnly
    }
}
