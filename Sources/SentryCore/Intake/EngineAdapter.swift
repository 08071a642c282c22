import Foundation

/// A detection engine that posts its own webhook body to `/hooks/<id>`.
public struct Engine: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The path segment of its hook: `alertmanager`, `azure-monitor`.
    public let id: String
    /// As people write it, for "resolved by Alertmanager" and error messages.
    public let name: String
    /// The first part of its detection ids: `azure` in `azure.ir-failed-logons-burst`.
    public let detectionPrefix: String
    /// How it can prove itself to its hook: what its sender is able to set.
    public let credentials: Set<EngineCredential>

    public init(id: String, name: String, detectionPrefix: String, credentials: Set<EngineCredential> = [.bearer]) {
        self.id = id
        self.name = name
        self.detectionPrefix = detectionPrefix
        self.credentials = credentials
    }

    public var hookPath: String { "/hooks/\(id)" }
    public var description: String { name }

    /// "an Alertmanager", "a Grafana": for "looks like … body".
    var withArticle: String {
        let vowel = name.first.map { "AEIOU".contains($0) } ?? false
        return (vowel ? "an " : "a ") + name
    }

    /// The body of DESIGN.md §4.4, which the sniffer also recognises.
    public static let sentryWebhook = Engine(id: "detections", name: "Sentry detection webhook", detectionPrefix: "")
}

/// A way an engine proves itself to `/hooks/<engine>`.
public enum EngineCredential: String, Sendable, Hashable, CaseIterable {
    /// `Authorization: Bearer <SENTRY_WEBHOOK_TOKEN>`, compared in constant time.
    case bearer
    /// `?token=<SENTRY_WEBHOOK_TOKEN>`, for engines that can only call a URL (Splunk, plain Azure webhooks). The
    /// token then lives in the engine's configuration and in the access logs of any proxy on the way.
    case queryToken = "query_token"
    /// Grafana's `X-Grafana-Alerting-Signature` keyed by `SENTRY_WEBHOOK_SECRET` (`GrafanaSignature`).
    case grafanaSignature = "grafana_signature"
}

/// One engine's body → detections: pure, no I/O, no clock. One file per engine in this folder, listed in
/// `EngineRegistry.adapters`.
public protocol EngineAdapter: Sendable {
    static var engine: Engine { get }
    /// Where `subject_from:` paths of this engine may start (`labels.`); `""` admits any field.
    static var fieldRoots: [String] { get }
    /// Whether a parsed body has this engine's shape. Adapters keep these exclusive, so that the sniffer can
    /// name the engine of a body posted to the wrong hook.
    static func looksLike(_ body: [String: JSONValue]) -> Bool
    /// The detections of a body already parsed as a JSON object. Errors name the field (`IntakeObject` paths).
    static func decode(_ body: IntakeObject) throws(EngineIntakeError) -> EngineIntake
}

extension EngineAdapter {
    /// Parses and maps a raw webhook body. A body of another engine is refused with that engine's name.
    public static func decode(_ bytes: [UInt8]) throws(EngineIntakeError) -> EngineIntake {
        guard let json = JSONValue.parse(bytes) else { throw .notJSON }
        guard let object = json.objectValue else { throw .wrongType(path: "body", expected: "a JSON object") }
        if !looksLike(object), let other = EngineSniffer.guess(object), other != engine {
            throw .wrongEngine(hook: engine, looksLike: other)
        }
        return try decode(IntakeObject(object, path: ""))
    }
}

/// What one webhook body said: one or more detections, each maybe with the engine's word that it is over.
public struct EngineIntake: Equatable, Sendable {
    public var engine: Engine
    public var detections: [EngineDetection]
    /// Alertmanager and Grafana send groups; nil for the engines that send one alert per body.
    public var group: EngineGroup?

    public init(engine: Engine, detections: [EngineDetection], group: EngineGroup? = nil) {
        self.engine = engine
        self.detections = detections
        self.group = group
    }
}

/// An Alertmanager (or Grafana) group as sent: re-sent every `group_interval`, so only its alerts' ids count.
public struct EngineGroup: Equatable, Sendable {
    /// Opaque; compare it, never parse it.
    public var key: String
    public var receiver: String?
    /// How many alerts of the group the engine left out of this body (`max_alerts`).
    public var truncatedAlerts: Int

    public init(key: String, receiver: String? = nil, truncatedAlerts: Int = 0) {
        self.key = key
        self.receiver = receiver
        self.truncatedAlerts = truncatedAlerts
    }
}

/// One alert of an engine as a `Detection`, with what the engine knows about it beyond that.
public struct EngineDetection: Equatable, Sendable {
    /// `id` is the id to deduplicate on (the same body re-sent gives the same id); `detection` is
    /// `<engine prefix>.<rule slug>`; the subject is the adapter's choice (see `applying(subjectFrom:)`).
    public var detection: Detection
    /// The engine's own identity of this alert, the same when it fires and when it resolves
    /// (`alertmanager:<fingerprint>`, `azure-monitor:<alertId>`, `sentinel:<incident name>`): one Slack alert each.
    public var engineAlertID: String
    /// Set when the engine says the alert is over; nil while it fires (and always for fire-only engines).
    public var resolved: EngineResolution?
    /// With `resolved`: the `Detection.id` the same alert had while it fired. The Slack alert that detection
    /// landed in is the one the engine resolves; before it arrives, the resolve waits for it.
    public var firingID: String?
    /// Text values a playbook's `subject_from:` may name, by path (`labels.instance`, `result.src_ip`).
    public var fields: [String: String]

    public init(
        detection: Detection, engineAlertID: String, resolved: EngineResolution? = nil, firingID: String? = nil, fields: [String: String] = [:]
    ) {
        self.detection = detection
        self.engineAlertID = engineAlertID
        self.resolved = resolved
        self.firingID = firingID
        self.fields = fields
    }
}

/// The engine's word that an alert is over.
public struct EngineResolution: Codable, Equatable, Sendable {
    /// The engine's name, for "resolved by Alertmanager".
    public var by: String
    /// Sentinel's classification of a closed incident (`TruePositive`, `FalsePositive`, …), with its reason.
    public var classification: String?
    /// What the closer wrote (Sentinel's classification comment).
    public var comment: String?
    public var at: Date?

    public init(by: String, classification: String? = nil, comment: String? = nil, at: Date? = nil) {
        self.by = by
        self.classification = classification
        self.comment = comment
        self.at = at
    }
}

/// Every engine adapter; adding an engine is one adapter file and one line here.
public enum EngineRegistry {
    public static let adapters: [any EngineAdapter.Type] = [
        AlertmanagerAdapter.self,
        GrafanaAdapter.self,
        AzureMonitorAdapter.self,
        SentinelAdapter.self,
        SplunkAdapter.self,
        ElasticAdapter.self,
        PantherAdapter.self,
    ]

    public static var engines: [Engine] { adapters.map { $0.engine } }

    /// The adapter behind `/hooks/<id>`.
    public static func adapter(id: String) -> (any EngineAdapter.Type)? {
        adapters.first { $0.engine.id == id }
    }

    /// The adapter whose detections a detection id or pattern names (`alertmanager.*` → Alertmanager), if one does.
    public static func adapter(forDetection detection: String) -> (any EngineAdapter.Type)? {
        guard let dot = detection.firstIndex(of: ".") else { return nil }
        let prefix = detection[..<dot]
        return adapters.first { $0.engine.detectionPrefix == prefix }
    }
}
