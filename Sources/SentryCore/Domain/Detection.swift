import Foundation

/// One finding from a detection engine or a built-in collector: the input that creates or grows an alert.
public struct Detection: Codable, Equatable, Sendable {
    public var id: String
    public var detection: String
    public var severity: Severity?
    public var title: String?
    public var summary: String?
    public var subject: Subject
    public var evidence: JSONValue?
    public var occurredAt: Date?
    /// Back to the engine (Alertmanager's generatorURL, a Sentinel incident, Splunk results): a button on the alert.
    public var link: String?
    /// The engine's own alert this detection is an occurrence of (`EngineDetection.engineAlertID`), set by the
    /// engine hooks so an alert knows which engine alerts still fire on it; nil for every other detection.
    public var engineAlert: String?

    public init(
        id: String, detection: String, severity: Severity? = nil, title: String? = nil, summary: String? = nil,
        subject: Subject, evidence: JSONValue? = nil, occurredAt: Date? = nil, link: String? = nil
    ) {
        self.id = id
        self.detection = detection
        self.severity = severity
        self.title = title
        self.summary = summary
        self.subject = subject
        self.evidence = evidence
        self.occurredAt = occurredAt
        self.link = link
    }
}

/// Why a webhook body was refused; the message names the field.
public struct DetectionInputError: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var reason: String
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }
}

extension Detection {
    public static let maxIDLength = 200
    public static let maxTitleLength = 250
    public static let maxSummaryLength = 2_000

    /// Decodes and validates the webhook body of DESIGN.md §4.4.
    public static func decodeWebhook(_ bytes: [UInt8]) throws(DetectionInputError) -> Detection {
        guard let json = JSONValue.parse(bytes) else {
            throw DetectionInputError(field: "", reason: "body is not valid JSON")
        }
        guard let object = json.objectValue else {
            throw DetectionInputError(field: "", reason: "body must be a JSON object")
        }

        let id = try requiredString(object, "id", maxLength: maxIDLength)
        let detection = try requiredString(object, "detection", maxLength: 100)
        guard detection.utf8.allSatisfy({ isDetectionIDByte($0) }) else {
            throw DetectionInputError(
                field: "detection", reason: "must contain only a-z, 0-9, '.', '_' and '-' (for example slack.max_daily_download)")
        }

        var severity: Severity?
        if let raw = try optionalString(object, "severity", maxLength: 20) {
            guard let parsed = Severity(rawValue: raw.lowercased()) else {
                throw DetectionInputError(field: "severity", reason: "must be one of low, medium, high, critical")
            }
            severity = parsed
        }
        let title = try optionalString(object, "title", maxLength: maxTitleLength)
        let summary = try optionalString(object, "summary", maxLength: maxSummaryLength)

        guard let subjectValue = object["subject"], subjectValue != .null else {
            throw DetectionInputError(field: "subject", reason: "is required and needs at least one of \(Subject.fieldNames.joined(separator: ", "))")
        }
        guard let subjectObject = subjectValue.objectValue else {
            throw DetectionInputError(field: "subject", reason: "must be an object")
        }
        for key in subjectObject.keys.sorted() where !Subject.fieldNames.contains(key) {
            throw DetectionInputError(field: "subject.\(key)", reason: "unknown field; expected one of \(Subject.fieldNames.joined(separator: ", "))")
        }
        var subject = Subject()
        subject.slackUserID = try optionalString(subjectObject, "slack_user_id", prefix: "subject.", maxLength: 30)
        if let user = subject.slackUserID, !SlackID.isUser(user) {
            throw DetectionInputError(field: "subject.slack_user_id", reason: "must be a Slack user id such as U024BE7LH or W0123ABCD")
        }
        subject.ip = try optionalString(subjectObject, "ip", prefix: "subject.", maxLength: 45)
        if let ip = subject.ip {
            guard let address = IPAddress(ip) else {
                throw DetectionInputError(field: "subject.ip", reason: "must be an IPv4 or IPv6 address, got \(quoted(ip))")
            }
            subject.ip = address.description
        }
        subject.merakiNetworkID = try optionalString(subjectObject, "meraki_network_id", prefix: "subject.", maxLength: 64)
        subject.merakiSerial = try optionalString(subjectObject, "meraki_serial", prefix: "subject.", maxLength: 64)
        subject.host = try checked(
            subjectObject, "host", maxLength: SubjectValue.maxHostLength, SubjectValue.host, "a host name such as vm-web-01.example.com")
        subject.email = try checked(
            subjectObject, "email", maxLength: SubjectValue.maxEmailLength, SubjectValue.email, "an email address or user principal name")
        subject.account = try checked(
            subjectObject, "account", maxLength: SubjectValue.maxAccountLength, SubjectValue.account, "a user name without control characters")
        subject.rule = try checked(
            subjectObject, "rule", maxLength: SubjectValue.maxRuleLength, SubjectValue.rule, "a detection id such as panther.okta.brute_force")
        if subject.isEmpty {
            throw DetectionInputError(field: "subject", reason: "needs at least one of \(Subject.fieldNames.joined(separator: ", "))")
        }

        var occurredAt: Date?
        if let raw = try optionalString(object, "occurred_at", maxLength: 40) {
            guard let date = Timestamp.parseISO8601(raw) else {
                throw DetectionInputError(field: "occurred_at", reason: "must be an RFC 3339 time such as 2026-11-22T09:00:00Z")
            }
            occurredAt = date
        }

        return Detection(
            id: id, detection: detection, severity: severity, title: title, summary: summary, subject: subject,
            evidence: object["evidence"], occurredAt: occurredAt)
    }

    private static func isDetectionIDByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    private static func requiredString(_ object: [String: JSONValue], _ key: String, maxLength: Int) throws(DetectionInputError) -> String {
        guard let value = try optionalString(object, key, maxLength: maxLength) else {
            throw DetectionInputError(field: key, reason: "is required")
        }
        return value
    }

    private static func optionalString(
        _ object: [String: JSONValue], _ key: String, prefix: String = "", maxLength: Int
    ) throws(DetectionInputError) -> String? {
        guard let value = object[key], value != .null else { return nil }
        guard case .string(let string) = value else {
            throw DetectionInputError(field: prefix + key, reason: "must be a string")
        }
        let trimmed = string.trimmedOfWhitespace
        if trimmed.isEmpty {
            throw DetectionInputError(field: prefix + key, reason: "must not be empty")
        }
        if trimmed.utf8.count > maxLength, trimmed.count > maxLength {
            throw DetectionInputError(field: prefix + key, reason: "is longer than \(maxLength) characters")
        }
        return trimmed
    }

    /// An optional subject field in its canonical form, or an error saying what it must be.
    private static func checked(
        _ object: [String: JSONValue], _ key: String, maxLength: Int, _ canonical: (String) -> String?, _ shape: String
    ) throws(DetectionInputError) -> String? {
        guard let text = try optionalString(object, key, prefix: "subject.", maxLength: maxLength) else { return nil }
        guard let value = canonical(text) else {
            throw DetectionInputError(field: "subject.\(key)", reason: "must be \(shape), got \(quoted(text))")
        }
        return value
    }

    private static func quoted(_ text: String) -> String {
        "\"" + String(text.prefix(60)) + "\""
    }
}
