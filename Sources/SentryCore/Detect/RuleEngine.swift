import Foundation

/// The built-in detections of DESIGN.md §4.7 over normalised events: thresholds, windows, patterns and keywords
/// come from the playbooks. Pure: state in, detections and state changes out; time comes from the events.
public struct RuleEngine: Sendable {
    /// A rule's settings, read from its playbook's `rule:` mapping.
    /// A class so the hot loop passes a reference, not a copy of every field.
    public final class Rule: Sendable {
        public let detection: String
        public let playbook: Playbook
        public let threshold: Int
        public let window: Int
        public let actions: Set<String>
        public let patterns: [String]
        public let keywords: [String]
        /// How `keywords` match file names (whole words unless the playbook says `match: substring|regex`).
        public let keywordMatcher: KeywordMatcher
        public let fileIDs: Set<String>
        public let channels: Set<String>
        public let anomalyReasons: Set<String>
        public let alertOnCellularFailover: Bool
        public let alertOnRecovery: Bool

        init(
            detection: String, playbook: Playbook, threshold: Int, window: Int, actions: Set<String>, patterns: [String], keywords: [String],
            keywordMatcher: KeywordMatcher, fileIDs: Set<String>, channels: Set<String>, anomalyReasons: Set<String>,
            alertOnCellularFailover: Bool, alertOnRecovery: Bool
        ) {
            self.keywordMatcher = keywordMatcher
            self.detection = detection
            self.playbook = playbook
            self.threshold = threshold
            self.window = window
            self.actions = actions
            self.patterns = patterns
            self.keywords = keywords
            self.fileIDs = fileIDs
            self.channels = channels
            self.anomalyReasons = anomalyReasons
            self.alertOnCellularFailover = alertOnCellularFailover
            self.alertOnRecovery = alertOnRecovery
        }
    }

    public static let builtIn = [
        "slack.sensitive_file_downloads", "slack.filename_keywords", "slack.max_daily_download", "slack.failed_logins_by_ip",
        "meraki.public_ip_change",
    ]

    public let rules: [Rule]
    /// Which rules read which action, so an event is only matched against rules that can count it.
    private let rulesByAction: [String: [Rule]]
    private let compiled: [String: [NSRegularExpression]]
    /// File names repeat: remember which matched, so regular expressions run once per name.
    private let nameMatches: MatchCache

    /// Problems in the `rule:` settings, as `file: message` lines.
    public struct Problem: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
        /// The description without the leading `file: `.
        public var message: String {
            guard let range = description.range(of: ": ") else { return description }
            return String(description[range.upperBound...])
        }
    }

    /// How late an event may arrive (behind the newest one of its key) and still be counted with every event of
    /// the window it belongs to: counts are kept that much longer than the window.
    public let maxLateness: Int

    public init(playbooks: [Playbook], maxLateness: Int = 3_600) throws {
        self.maxLateness = max(0, maxLateness)
        var rules: [Rule] = []
        var compiled: [String: [NSRegularExpression]] = [:]
        for playbook in playbooks where Self.builtIn.contains(playbook.detection) {
            let settings = playbook.rule?.objectValue ?? [:]
            func int(_ key: String, _ fallback: Int) throws -> Int {
                guard let value = settings[key] else { return fallback }
                if let number = value.numberValue, number >= 1, number.rounded() == number { return Int(number) }
                throw Problem(description: "\(playbook.source): rule.\(key) must be a whole number of at least 1")
            }
            func duration(_ key: String, _ fallback: Int) throws -> Int {
                guard let value = settings[key] else { return fallback }
                if let text = value.stringValue, let seconds = DurationText.parse(text) { return seconds }
                throw Problem(description: "\(playbook.source): rule.\(key) must be a duration such as 10m, 24h or 14d")
            }
            func strings(_ key: String) throws -> [String] {
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
            let keywords = try strings("keywords")
            var mode = KeywordMatcher.Mode.words
            if let value = settings["match"] {
                guard let text = value.stringValue, let parsed = KeywordMatcher.Mode(rawValue: text) else {
                    throw Problem(description: "\(playbook.source): rule.match must be words, substring or regex")
                }
                mode = parsed
            }
            let matcher: KeywordMatcher
            do { matcher = try KeywordMatcher(keywords: keywords, mode: mode) } catch {
                throw Problem(description: "\(playbook.source): rule.keywords: \(error.description)")
            }
            let rule = Rule(
                detection: playbook.detection, playbook: playbook, threshold: try int("threshold", defaults.threshold),
                window: try duration("window", defaults.window), actions: Set(actions.isEmpty ? defaults.actions : actions),
                patterns: try strings("name_patterns"), keywords: keywords, keywordMatcher: matcher,
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
        var byAction: [String: [Rule]] = [:]
        for rule in rules {
            for action in rule.actions { byAction[action, default: []].append(rule) }
        }
        self.rulesByAction = byAction
        self.compiled = compiled
        self.nameMatches = MatchCache()
    }

    /// Counting state: recent event times per (rule, key), and which (rule, key, period) already fired.
    public struct State: Sendable, Equatable {
        public var times: [String: [Double]] = [:]
        /// Fired keys (`detection|key|time`, or `detection|key|event id` for uplink changes), as persisted.
        public var fired: Set<String> = [] {
            didSet { for key in fired.subtracting(oldValue) { Self.note(key, in: &lastFired) } }
        }
        /// When each (detection, key) last fired, read from `fired`.
        public private(set) var lastFired: [String: Double] = [:]
        public init() {}

        static func note(_ key: String, in last: inout [String: Double]) {
            guard let bar = key.lastIndex(of: "|"), let time = Double(key[key.index(after: bar)...]) else { return }
            let head = String(key[..<bar])
            last[head] = max(last[head] ?? time, time)
        }
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
    public func process(_ events: [SecurityEvent], state: inout State, recordCounts: Bool = true) -> Outcome {
        var outcome = Outcome()
        for event in events {
            guard let candidates = rulesByAction[event.action] else { continue }
            for rule in candidates {
                guard let key = match(rule, event) else { continue }
                let at = event.at.timeIntervalSince1970
                if rule.detection == "meraki.public_ip_change" {
                    fire(rule, key: key, event: event, count: 1, first: at, last: at, period: Int(at), state: &state, outcome: &outcome)
                    continue
                }
                if recordCounts { outcome.counted.append((rule.detection, key, at)) }
                let stateKey = rule.detection + "|" + key
                // Mutated in place: copying a 14-day window out and back per event would be quadratic.
                let found: (count: Int, first: Double, last: Double, period: Int)? = Self.count(
                    &state.times[stateKey, default: []], at: at, rule: rule, lateness: Double(maxLateness))
                if let found {
                    fire(rule, key: key, event: event, count: found.count, first: found.first, last: found.last, period: found.period, state: &state, outcome: &outcome)
                }
            }
        }
        return outcome
    }

    /// Inserts `at`, prunes what no window can need any more, and returns the largest count above the threshold
    /// among the windows that hold `at` (UTC days for daily rules).
    static func count(_ times: inout [Double], at: Double, rule: Rule, lateness: Double) -> (count: Int, first: Double, last: Double, period: Int)? {
        let inOrder = times.last.map { $0 <= at } ?? true
        let index = inOrder ? times.count : upperBound(times, at)
        times.insert(at, at: index)
        var result: (count: Int, first: Double, last: Double, period: Int)?
        let window = Double(rule.window)
        if rule.detection == "slack.max_daily_download" {
            let day = floor(at / 86_400) * 86_400
            let count = lowerBound(times, day + 86_400) - lowerBound(times, day)
            if count > rule.threshold { result = (count, day, at, Int(day)) }
        } else if inOrder {
            // The common case: the newest event; its window is (at - window, at].
            let low = upperBound(times, at - window)
            let count = times.count - low
            if count > rule.threshold {
                result = (count, times[low], at, Int(floor(at / Self.episode(rule))))
            }
        } else {
            // A late event: any window of `window` seconds holding it.
            var best: (count: Int, first: Double, last: Double)?
            var low = upperBound(times, at - window)
            let end = lowerBound(times, at + window)
            for high in lowerBound(times, at)..<end {
                while times[high] - times[low] >= window { low += 1 }
                let count = high - low + 1
                if times[low] <= at, count > (best?.count ?? 0) { best = (count, times[low], times[high]) }
            }
            if let best, best.count > rule.threshold {
                result = (best.count, best.first, best.last, Int(floor(best.last / Self.episode(rule))))
            }
        }
        // Keep what an event up to `lateness` late can still need (its whole window, or its whole UTC day); prune
        // in chunks, not per event.
        let keep = (rule.detection == "slack.max_daily_download" ? 86_400.0 : window) + lateness
        // Never below the window of the event just counted: a late (or newest-first) event must still find its peers.
        if let newest = times.last, let oldest = times.first, oldest < newest - 2 * keep {
            times.removeFirst(lowerBound(times, min(newest - keep, at - window)))
        }
        return result
    }

    /// How long one detection covers a key: the longer of the rule's window and the playbook's grouping window,
    /// so a count that stays above the threshold is one episode, not a new detection every grouping window.
    static func episode(_ rule: Rule) -> Double {
        Double(max(rule.window, rule.playbook.groupingWindow, 1))
    }

    /// First index whose time is ≥ value.
    static func lowerBound(_ times: [Double], _ value: Double) -> Int {
        var low = 0, high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// First index whose time is > value.
    static func upperBound(_ times: [Double], _ value: Double) -> Int {
        var low = 0, high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] <= value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The key an event counts under for a rule, and the subject of the alert it may raise; nil when it does not count.
    func match(_ rule: Rule, _ event: SecurityEvent) -> String? {
        guard rule.actions.contains(event.action) else { return nil }
        switch rule.detection {
        case "slack.failed_logins_by_ip":
            guard event.source != .merakiUplinks, let ip = event.ip else { return nil }
            if event.action == "anomaly" {
                let reasons = Set((event.reason ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                let wanted = rule.anomalyReasons.isEmpty ? ["unexpected_credential_testing"] : rule.anomalyReasons
                guard !reasons.isDisjoint(with: wanted) else { return nil }
            }
            return "ip=" + ip
        case "slack.max_daily_download":
            guard let user = event.userID else { return nil }
            return "user=" + user
        case "slack.sensitive_file_downloads":
            guard let user = event.userID else { return nil }
            let name = event.fileName ?? ""
            let cacheKey = rule.detection + "\u{0}" + name
            let byName: Bool
            if let known = nameMatches.get(cacheKey) {
                byName = known
            } else {
                byName = (compiled[rule.detection] ?? []).contains { $0.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil }
                nameMatches.set(cacheKey, byName)
            }
            let byID = event.fileID.map(rule.fileIDs.contains) ?? false
            let byChannel = event.channelID.map(rule.channels.contains) ?? false
            guard byName || byID || byChannel else { return nil }
            return "user=" + user
        case "slack.filename_keywords":
            guard let user = event.userID, let name = event.fileName else { return nil }
            let cacheKey = rule.detection + "\u{1}" + name
            let hit: Bool
            if let known = nameMatches.get(cacheKey) {
                hit = known
            } else {
                hit = rule.keywordMatcher.matches(name)
                nameMatches.set(cacheKey, hit)
            }
            guard hit else { return nil }
            return "user=" + user
        case "meraki.public_ip_change":
            // The setting is about cellular: a move between wired uplinks (wan1 → wan2) alerts regardless.
            if event.action == "uplink_failover", !rule.alertOnCellularFailover, UplinkTracker.isCellular(event.interface ?? "cellular") { return nil }
            if event.action == "uplink_recovered", !rule.alertOnRecovery { return nil }
            return "device=" + (event.serial ?? "?")
        default:
            return nil
        }
    }

    /// The alert subject a counting key stands for.
    static func subject(_ key: String, _ event: SecurityEvent) -> Subject {
        if key.hasPrefix("ip=") { return Subject(ip: String(key.dropFirst(3))) }
        if key.hasPrefix("user=") { return Subject(slackUserID: String(key.dropFirst(5))) }
        return Subject(merakiNetworkID: event.networkID, merakiSerial: event.serial)
    }

    func fire(
        _ rule: Rule, key: String, event: SecurityEvent, count: Int, first: Double, last: Double, period: Int,
        state: inout State, outcome: inout Outcome
    ) {
        let firedKey: String
        if rule.detection == "meraki.public_ip_change" {
            // Uplink changes are each news (two interfaces can change in one report): keyed by the event itself.
            firedKey = "\(rule.detection)|\(key)|\(event.id)"
            guard !state.fired.contains(firedKey) else { return }
        } else {
            // One detection per episode: while the count stays above the threshold within the rule's window (or
            // the grouping window, if longer) of the last detection, nothing new fires.
            let head = "\(rule.detection)|\(key)"
            if let previous = state.lastFired[head], abs(last - previous) < Self.episode(rule) { return }
            firedKey = "\(head)|\(Int(last))"
        }
        let subject = Self.subject(key, event)
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
        if let name = event.deviceName { evidence["device_name"] = .string(name) }
        // What moved, so approved-only knows a failover to cellular from a public IP change.
        if rule.detection == "meraki.public_ip_change" { evidence["change"] = .string(event.action) }
        let id = rule.detection == "meraki.public_ip_change" ? "\(rule.detection):\(event.source.rawValue):\(event.id)" : "\(rule.detection):\(key):\(Int(last))"
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

/// A bounded memo of name → matched, shared by copies of an engine (matching is a pure function of the name).
final class MatchCache: Sendable {
    private let results = Locked<[String: Bool]>([:])

    func get(_ key: String) -> Bool? {
        results.withLock { $0[key] }
    }

    func set(_ key: String, _ value: Bool) {
        results.withLock { results in
            if results.count > 100_000 { results.removeAll(keepingCapacity: true) }
            results[key] = value
        }
    }
}
