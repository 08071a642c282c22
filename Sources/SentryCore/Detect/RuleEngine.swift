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
        /// Which built-in detection this is, so the hot loop switches on a value, not on the name.
        let kind: Kind
        /// `patterns`, compiled once.
        let regexes: [NSRegularExpressionBox]
        /// File names repeat: which matched this rule's patterns or keywords, so they run once per name.
        let nameMatches = MatchCache()

        init(
            detection: String, playbook: Playbook, threshold: Int, window: Int, actions: Set<String>, patterns: [String], keywords: [String],
            keywordMatcher: KeywordMatcher, fileIDs: Set<String>, channels: Set<String>, anomalyReasons: Set<String>,
            alertOnCellularFailover: Bool, alertOnRecovery: Bool, kind: Kind, regexes: [NSRegularExpressionBox]
        ) {
            self.kind = kind
            self.regexes = regexes
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

    public static let builtIn = Kind.allCases.map(\.rawValue)

    /// The built-in detections.
    enum Kind: String, CaseIterable, Sendable {
        case sensitiveFileDownloads = "slack.sensitive_file_downloads"
        case filenameKeywords = "slack.filename_keywords"
        case maxDailyDownload = "slack.max_daily_download"
        case failedLoginsByIP = "slack.failed_logins_by_ip"
        case publicIPChange = "meraki.public_ip_change"
    }

    public let rules: [Rule]
    /// Which rules read which action, so an event is only matched against rules that can count it.
    private let rulesByAction: [String: [Rule]]

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
    /// the window it belongs to: counts are kept that much longer than the window. A key whose newest count is twice
    /// that far behind the newest event counted at all is forgotten (`State.sweep`), as a restart forgets it.
    public let maxLateness: Int
    /// By `Kind.index`: how far behind the newest event counted a key's last count may be before the key is forgotten.
    let idleHorizons: [Double]

    public init(playbooks: [Playbook], maxLateness: Int = 3_600) throws {
        self.maxLateness = max(0, maxLateness)
        var rules: [Rule] = []
        for playbook in playbooks {
            guard let kind = Kind(rawValue: playbook.detection) else { continue }
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
            switch kind {
            case .sensitiveFileDownloads: defaults = (5, 14 * 86_400, ["file_downloaded"])
            case .filenameKeywords: defaults = (3, 3_600, ["file_downloaded", "file_uploaded", "file_public_link_created"])
            case .maxDailyDownload: defaults = (100, 86_400, ["file_downloaded"])
            case .failedLoginsByIP: defaults = (20, 600, ["user_login_failed", "ip_allowlist_access_denied", "anomaly"])
            case .publicIPChange: defaults = (1, 0, ["uplink_public_ip_changed", "uplink_failover", "uplink_recovered"])
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
            let threshold = try int("threshold", defaults.threshold)
            let window = try duration("window", defaults.window)
            let patterns = try strings("name_patterns")
            let fileIDs = try strings("file_ids")
            let channels = try strings("channels")
            let anomalyReasons = try strings("anomaly_reasons")
            var regexes: [NSRegularExpressionBox] = []
            for pattern in patterns {
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
                regexes.append(NSRegularExpressionBox(regex))
            }
            let rule = Rule(
                detection: playbook.detection, playbook: playbook, threshold: threshold, window: window,
                actions: Set(actions.isEmpty ? defaults.actions : actions), patterns: patterns, keywords: keywords, keywordMatcher: matcher,
                fileIDs: Set(fileIDs), channels: Set(channels), anomalyReasons: Set(anomalyReasons),
                alertOnCellularFailover: settings["alert_on_cellular_failover"]?.boolValue ?? true,
                alertOnRecovery: settings["alert_on_recovery"]?.boolValue ?? true, kind: kind, regexes: regexes)
            rules.append(rule)
        }
        self.rules = rules
        var byAction: [String: [Rule]] = [:]
        for rule in rules {
            for action in rule.actions { byAction[action, default: []].append(rule) }
        }
        self.rulesByAction = byAction
        idleHorizons = Kind.allCases.map { kind in
            let spans = rules.filter { $0.kind == kind }.map { kind == .maxDailyDownload ? 86_400 : $0.window }
            return spans.max().map { 2 * Double($0 + max(0, maxLateness)) } ?? .infinity
        }
    }

    /// The actions some rule reads: events of other actions count nothing.
    public var actions: Set<String> { Set(rulesByAction.keys) }

    /// What a batch added to the state (to persist) and the detections it produced.
    public struct Outcome: Sendable, Equatable {
        public var detections: [Detection] = []
        /// (rule, key, time) per counted event.
        public var counted: [(String, String, Double)] = []
        public var fired: [String] = []

        public static func == (lhs: Outcome, rhs: Outcome) -> Bool {
            lhs.detections == rhs.detections && lhs.fired == rhs.fired
                && lhs.counted.map { "\($0.0)|\($0.1)|\($0.2)" } == rhs.counted.map { "\($0.0)|\($0.1)|\($0.2)" }
        }
    }

    /// Counts events and returns the detections they complete. Events may arrive out of order.
    public func process(_ events: [SecurityEvent], state: inout State, recordCounts: Bool = true) -> Outcome {
        process(events[...], state: &state, recordCounts: recordCounts)
    }

    /// The same for part of an array (a replay's batch, without copying it out).
    public func process(_ events: ArraySlice<SecurityEvent>, state: inout State, recordCounts: Bool = true) -> Outcome {
        var outcome = Outcome()
        state.prepare()
        // The rules of the few actions a batch holds, found without hashing: common actions are the scanner's literals,
        // which compare equal by their bits.
        var actionRules: [(action: String, rules: [Rule]?)] = []
        events.withUnsafeBufferPointer { events in
            guard let first = events.baseAddress else { return }
            for index in events.indices {
                // Through a pointer: the rules read the few fields they need in place, without copying each event
                // out of the batch.
                let event = first + index
                let action = event.pointee.action
                let count = action.utf8.count
                let candidates: [Rule]?
                if let known = actionRules.first(where: { $0.action.utf8.count == count && $0.action == action }) {
                    candidates = known.rules
                } else {
                    candidates = rulesByAction[action]
                    if actionRules.count < 16 { actionRules.append((action, candidates)) }
                }
                guard let candidates else { continue }
                for rule in candidates { apply(event, rule: rule, state: &state, outcome: &outcome, recordCounts: recordCounts) }
            }
        }
        if state.countedSinceSweep >= State.sweepEvery { state.sweep(idleHorizons) }
        return outcome
    }

    /// One event through one rule that reads its action.
    private func apply(_ event: UnsafePointer<SecurityEvent>, rule: Rule, state: inout State, outcome: inout Outcome, recordCounts: Bool) {
        guard let subject = match(rule, event) else { return }
        let at = event.pointee.at.timeIntervalSince1970
        if rule.kind == .publicIPChange {
            fire(
                rule, key: rule.kind.key(subject: subject), event: event.pointee, count: 1, first: at, last: at, period: Int(at), state: &state,
                outcome: &outcome)
            return
        }
        if recordCounts { outcome.counted.append((rule.detection, rule.kind.key(subject: subject), at)) }
        state.newestCounted = max(state.newestCounted, at)
        state.countedSinceSweep += 1
        // Mutated in place: copying a 14-day window out and back per event would be quadratic.
        let found = Self.count(&state.windows[rule.kind.index][subject, default: []], at: at, rule: rule, lateness: Double(maxLateness))
        if let found {
            fire(
                rule, key: rule.kind.key(subject: subject), event: event.pointee, count: found.count, first: found.first, last: found.last,
                period: found.period, state: &state, outcome: &outcome)
        }
    }

    /// Inserts `at`, prunes what no window can need any more, and returns the largest count above the threshold
    /// among the windows that hold `at` (UTC days for daily rules).
    static func count(_ times: inout [Double], at: Double, rule: Rule, lateness: Double) -> (count: Int, first: Double, last: Double, period: Int)? {
        let inOrder = times.last.map { $0 <= at } ?? true
        let index = inOrder ? times.count : upperBound(times, at)
        times.insert(at, at: index)
        var result: (count: Int, first: Double, last: Double, period: Int)?
        let window = Double(rule.window)
        if rule.kind == .maxDailyDownload {
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
        let keep = (rule.kind == .maxDailyDownload ? 86_400.0 : window) + lateness
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
        var low = 0
        var high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// First index whose time is > value.
    static func upperBound(_ times: [Double], _ value: Double) -> Int {
        var low = 0
        var high = times.count
        while low < high {
            let mid = (low + high) / 2
            if times[mid] <= value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The subject an event counts under for a rule that reads its action (the counting key without its
    /// `Kind.keyPrefix`); nil when it does not count.
    func match(_ rule: Rule, _ event: UnsafePointer<SecurityEvent>) -> String? {
        switch rule.kind {
        case .failedLoginsByIP:
            guard event.pointee.source != .merakiUplinks, let ip = event.pointee.ip else { return nil }
            if event.pointee.action == "anomaly" {
                let wanted = rule.anomalyReasons.isEmpty ? ["unexpected_credential_testing"] : rule.anomalyReasons
                guard Self.reasons(event.pointee.reason ?? "").contains(where: { reason in wanted.contains { $0 == reason } }) else { return nil }
            }
            return ip
        case .maxDailyDownload:
            return event.pointee.userID
        case .sensitiveFileDownloads:
            guard let user = event.pointee.userID else { return nil }
            let name = event.pointee.fileName ?? ""
            let byName = rule.nameMatches.value(
                for: name, rule.regexes.contains { $0.regex.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil })
            let byID = !rule.fileIDs.isEmpty && event.pointee.fileID.map(rule.fileIDs.contains) ?? false
            let byChannel = !rule.channels.isEmpty && event.pointee.channelID.map(rule.channels.contains) ?? false
            guard byName || byID || byChannel else { return nil }
            return user
        case .filenameKeywords:
            guard let user = event.pointee.userID, let name = event.pointee.fileName else { return nil }
            guard rule.nameMatches.value(for: name, rule.keywordMatcher.matches(name)) else { return nil }
            return user
        case .publicIPChange:
            // The setting is about cellular: a move between wired uplinks (wan1 → wan2) alerts regardless.
            if event.pointee.action == "uplink_failover", !rule.alertOnCellularFailover,
                UplinkTracker.isCellular(event.pointee.interface ?? "cellular")
            {
                return nil
            }
            if event.pointee.action == "uplink_recovered", !rule.alertOnRecovery { return nil }
            return event.pointee.serial ?? "?"
        }
    }

    /// Comma-separated anomaly reasons, each without surrounding white space.
    static func reasons(_ text: String) -> [Substring] {
        let parts = text.split(separator: ",")
        // Slack writes them without spaces: trimming (through Foundation) only when a part has some at an end.
        return parts.map { part in
            guard let first = part.utf8.first, let last = part.utf8.last, first > 0x20, first < 0x80, last > 0x20, last < 0x80 else {
                return Substring(part.trimmingCharacters(in: .whitespaces))
            }
            return part
        }
    }
}

/// A bounded memo of name → matched, shared by copies of an engine (matching is a pure function of the name).
final class MatchCache: Sendable {
    private let results = Locked<[String: Bool]>([:])

    /// The memo for `name`, else `compute()` (outside the lock), remembered.
    func value(for name: String, _ compute: @autoclosure () -> Bool) -> Bool {
        if let known = results.withLock({ $0[name] }) { return known }
        let value = compute()
        results.withLock { results in
            if results.count > 100_000 { results.removeAll(keepingCapacity: true) }
            results[name] = value
        }
        return value
    }
}
