import Foundation

/// The built-in detections of DESIGN.md §4.7 over normalised events: thresholds, windows, patterns and keywords
/// come from the playbooks. Pure: state in, detections and state changes out; time comes from the events.
public struct RuleEngine: Sendable {
    /// A rule's settings, read from its playbook's `rule:` mapping.
    public struct Rule: Sendable, Equatable {
        public var detection: String
        public var playbook: Playbook
        public var threshold: Int
        public var window: Int
        public var actions: Set<String>
        public var patterns: [String]
        public var keywords: [String]
        public var fileIDs: Set<String>
        public var channels: Set<String>
        public var anomalyReasons: Set<String>
        public var alertOnCellularFailover: Bool
        public var alertOnRecovery: Bool
    }

    public static let builtIn = [
        "slack.sensitive_file_downloads", "slack.filename_keywords", "slack.max_daily_download", "slack.failed_logins_by_ip",
        "meraki.public_ip_change",
    ]

    public private(set) var rules: [Rule]
    private let compiled: [String: [NSRegularExpression]]

    /// Problems in the `rule:` settings, as `file: message` lines.
    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(playbooks: [Playbook]) throws(Problem) {
        var rules: [Rule] = []
        var compiled: [String: [NSRegularExpression]] = [:]
        for playbook in playbooks where Self.builtIn.contains(playbook.detection) {
            let settings = playbook.rule?.objectValue ?? [:]
            func int(_ key: String, _ fallback: Int) throws(Problem) -> Int {
                guard let value = settings[key] else { return fallback }
                if let number = value.numberValue, number >= 1, number.rounded() == number { return Int(number) }
                throw Problem(description: "\(playbook.source): rule.\(key) must be a whole number of at least 1")
            }
            func duration(_ key: String, _ fallback: Int) throws(Problem) -> Int {
                guard let value = settings[key] else { return fallback }
                if let text = value.stringValue, let seconds = DurationText.parse(text) { return seconds }
                throw Problem(description: "\(playbook.source): rule.\(key) must be a duration such as 10m, 24h or 14d")
            }
            func strings(_ key: String) throws(Problem) -> [String] {
                guard let value = settings[key] else { return [] }
                guard let items = value.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                    throw Problem(description: "\(playbook.source): rule.\(key) must be a list of texts")
                }
                return items.compactMap(\.stringValue)
            }
            let defaults: (threshold: Int, window: Int, actions: [String])
            switch playbook.detection {
            case "slack.sensitive_file_downloads": defaults = (5, 14 * 86_400, ["file_downloaded"])
            case "slack.filename_keywords": defaults = (3, 3_600, ["file_downloaded", "file_uploaded", "file_public_link_created"])
            case "slack.max_daily_download": defaults = (100, 86_400, ["file_downloaded"])
            case "slack.failed_logins_by_ip": defaults = (20, 600, ["user_login_failed", "ip_allowlist_access_denied", "anomaly"])
            default: defaults = (1, 0, ["uplink_public_ip_changed", "uplink_failover", "uplink_recovered"])
            }
            let actions = try strings("actions")
            let rule = Rule(
                detection: playbook.detection, playbook: playbook, threshold: try int("threshold", defaults.threshold),
                window: try duration("window", defaults.window), actions: Set(actions.isEmpty ? defaults.actions : actions),
                patterns: try strings("name_patterns"), keywords: try strings("keywords").map { $0.lowercased() },
                fileIDs: Set(try strings("file_ids")), channels: Set(try strings("channels")),
                anomalyReasons: Set(try strings("anomaly_reasons")),
                alertOnCellularFailover: settings["alert_on_cellular_failover"]?.boolValue ?? true,
                alertOnRecovery: settings["alert_on_recovery"]?.boolValue ?? true)
            var regexes: [NSRegularExpression] = []
            for pattern in rule.patterns {
                // `(?i)` prefixes are how playbooks ask for case-insensitive matching.
                var body = pattern
                var options: NSRegularExpression.Options = []
                if body.hasPrefix("(?i)") {
                    body.removeFirst(4)
                    options.insert(.caseInsensitive)
                }
                guard let regex = try? NSRegularExpression(pattern: body, options: options) else {
                    throw Problem(description: "\(playbook.source): rule.name_patterns has an invalid regular expression: \(pattern)")
                }
                regexes.append(regex)
            }
            compiled[playbook.detection] = regexes
            rules.append(rule)
        }
        self.rules = rules
        self.compiled = compiled
    }

    /// Counting state: recent event times per (rule, key), and which (rule, key, period) already fired.
    public struct State: Sendable, Equatable {
        public var times: [String: [Double]] = [:]
        public var fired: Set<String> = []
        public init() {}
    }

    /// What a batch added to the state (to persist) and the detections it produced.
    public struct Outcome: Sendable, Equatable {
        public var detections: [Detection] = []
        /// (rule, key, time) per counted event.
        public var counted: [(String, String, Double)] = []
        public var fired: [String] = []

        public static func == (lhs: Outcome, rhs: Outcome) -> Bool {
            lhs.detections == rhs.detections && lhs.fired == rhs.fired && lhs.counted.map { "\($0.0)|\($0.1)|\($0.2)" } == rhs.counted.map { "\($0.0)|\($0.1)|\($0.2)" }
        }
    }

    /// Counts events and returns the detections they complete. Events may arrive out of order.
    public func process(_ events: [SecurityEvent], state: inout State) -> Outcome {
        var outcome = Outcome()
        for event in events {
            for rule in rules {
                guard let (key, subject) = match(rule, event) else { continue }
                let stateKey = rule.detection + "|" + key
                let at = event.at.timeIntervalSince1970
                if rule.detection == "meraki.public_ip_change" {
                    fire(rule, key: key, subject: subject, event: event, count: 1, first: at, last: at, period: Int(at), state: &state, outcome: &outcome)
                    continue
                }
                var times = state.times[stateKey] ?? []
                let index = times.firstIndex { $0 > at } ?? times.count
                times.insert(at, at: index)
                outcome.counted.append((rule.detection, key, at))
                if rule.detection == "slack.max_daily_download" {
                    // UTC days: count this event's day only.
                    let day = floor(at / 86_400) * 86_400
                    let count = times.filter { $0 >= day && $0 < day + 86_400 }.count
                    if count > rule.threshold {
                        fire(rule, key: key, subject: subject, event: event, count: count, first: day, last: at, period: Int(day), state: &state, outcome: &outcome)
                    }
                } else {
                    // Any window of `rule.window` seconds that holds this event and more than `threshold` events.
                    let window = Double(rule.window)
                    var best: (count: Int, first: Double, last: Double)?
                    var low = 0
                    for high in times.indices where times[high] >= at && times[high] < at + window {
                        while times[high] - times[low] >= window { low += 1 }
                        let count = high - low + 1
                        if times[low] <= at, count > (best?.count ?? 0) { best = (count, times[low], times[high]) }
                    }
                    if let best, best.count > rule.threshold {
                        let period = Int(floor(best.last / Double(max(rule.playbook.groupingWindow, 1))))
                        fire(rule, key: key, subject: subject, event: event, count: best.count, first: best.first, last: best.last, period: period, state: &state, outcome: &outcome)
                    }
                }
                // Keep what any future window can still need: the newest `window` seconds (two days for daily counts).
                let keep = Double(rule.detection == "slack.max_daily_download" ? 2 * 86_400 : rule.window)
                if let newest = times.last { times.removeAll { $0 <= newest - keep - Double(rule.window) } }
                state.times[stateKey] = times
            }
        }
        return outcome
    }

    /// The key an event counts under for a rule, and the subject of the alert it may raise; nil when it does not count.
    func match(_ rule: Rule, _ event: SecurityEvent) -> (String, Subject)? {
        guard rule.actions.contains(event.action) else { return nil }
        switch rule.detection {
        case "slack.failed_logins_by_ip":
            guard event.source != .merakiUplinks, let ip = event.ip else { return nil }
            if event.action == "anomaly" {
                let reasons = Set((event.reason ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                let wanted = rule.anomalyReasons.isEmpty ? ["unexpected_credential_testing"] : rule.anomalyReasons
                guard !reasons.isDisjoint(with: wanted) else { return nil }
            }
            return ("ip=\(ip)", Subject(ip: ip))
        case "slack.max_daily_download":
            guard let user = event.userID else { return nil }
            return ("user=\(user)", Subject(slackUserID: user))
        case "slack.sensitive_file_downloads":
            guard let user = event.userID else { return nil }
            let name = event.fileName ?? ""
            let byName = (compiled[rule.detection] ?? []).contains { $0.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil }
            let byID = event.fileID.map(rule.fileIDs.contains) ?? false
            let byChannel = event.channelID.map(rule.channels.contains) ?? false
            guard byName || byID || byChannel else { return nil }
            return ("user=\(user)", Subject(slackUserID: user))
        case "slack.filename_keywords":
            guard let user = event.userID, let name = event.fileName?.lowercased(), rule.keywords.contains(where: { name.contains($0) }) else { return nil }
            return ("user=\(user)", Subject(slackUserID: user))
        case "meraki.public_ip_change":
            if event.action == "uplink_failover", !rule.alertOnCellularFailover { return nil }
            if event.action == "uplink_recovered", !rule.alertOnRecovery { return nil }
            let device = event.serial ?? "?"
            return ("device=\(device)", Subject(merakiNetworkID: event.networkID, merakiSerial: event.serial))
        default:
            return nil
        }
    }

    func fire(
        _ rule: Rule, key: String, subject: Subject, event: SecurityEvent, count: Int, first: Double, last: Double, period: Int,
        state: inout State, outcome: inout Outcome
    ) {
        let firedKey = "\(rule.detection)|\(key)|\(period)"
        guard !state.fired.contains(firedKey) else { return }
        state.fired.insert(firedKey)
        outcome.fired.append(firedKey)
        let (title, summary) = describe(rule, subject: subject, event: event, count: count)
        var evidence: [String: JSONValue] = [
            "count": .number(Double(count)), "first": .string(Timestamp.iso8601(Date(timeIntervalSince1970: first))),
            "last": .string(Timestamp.iso8601(Date(timeIntervalSince1970: last))), "source": .string(event.source.rawValue),
        ]
        if rule.window > 0, rule.detection != "meraki.public_ip_change" {
            evidence["window"] = .string(rule.detection == "slack.max_daily_download" ? "UTC day" : DurationText.format(rule.window))
            evidence["threshold"] = .number(Double(rule.threshold))
        }
        if let name = event.fileName { evidence["last_file"] = .string(name) }
        if let detail = event.detail { evidence["detail"] = .string(detail) }
        if let previous = event.previousPublicIP { evidence["previous_public_ip"] = .string(previous) }
        if let current = event.publicIP { evidence["public_ip"] = .string(current) }
        if let interface = event.interface { evidence["interface"] = .string(interface) }
        let id = rule.detection == "meraki.public_ip_change" ? "\(rule.detection):\(event.source.rawValue):\(event.id)" : "\(rule.detection):\(key):\(period)"
        outcome.detections.append(Detection(
            id: id, detection: rule.detection, severity: nil, title: title, summary: summary, subject: subject,
            evidence: .object(evidence), occurredAt: Date(timeIntervalSince1970: last)))
    }

    func describe(_ rule: Rule, subject: Subject, event: SecurityEvent, count: Int) -> (String, String) {
        let user = subject.slackUserID ?? "?"
        switch rule.detection {
        case "slack.failed_logins_by_ip":
            return ("\(count) failed Slack logins from \(subject.ip ?? "?")", "\(count) failed logins from \(subject.ip ?? "?") within \(DurationText.format(rule.window)) (threshold \(rule.threshold)).")
        case "slack.max_daily_download":
            return ("\(user) downloaded \(count) files today", "\(user) downloaded \(count) files in one UTC day (threshold \(rule.threshold)).")
        case "slack.sensitive_file_downloads":
            return ("\(user) downloaded \(count) sensitive files", "\(user) downloaded \(count) files matching the sensitive patterns within \(DurationText.format(rule.window)) (threshold \(rule.threshold)).")
        case "slack.filename_keywords":
            return ("\(user): \(count) files with watched keywords", "\(count) files whose names carry watched keywords, by \(user), within \(DurationText.format(rule.window)) (threshold \(rule.threshold)).")
        default:
            let device = event.serial ?? "?"
            switch event.action {
            case "uplink_failover": return ("\(device) failed over to \(event.interface ?? "cellular")", "The active uplink of \(device) moved to \(event.interface ?? "cellular").")
            case "uplink_recovered": return ("\(device) is back on \(event.interface ?? "wired")", "The active uplink of \(device) moved back to \(event.interface ?? "a wired uplink").")
            case "cellular_up", "cellular_down": return ("\(device): \(event.detail ?? event.action)", event.detail ?? event.action)
            default:
                return ("\(device) \(event.interface ?? "uplink") public IP changed", "Public IP of \(device) \(event.interface ?? "uplink") changed from \(event.previousPublicIP ?? "?") to \(event.publicIP ?? "?").")
            }
        }
    }
}
