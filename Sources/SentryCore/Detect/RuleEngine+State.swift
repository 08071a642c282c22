import Foundation

extension RuleEngine {
    /// Counting state: recent event times per (rule, key), and which (rule, key, period) already fired.
    public struct State: Sendable, Equatable {
        /// Event times to resume counting from, by `detection|key` (`ip=…`, `user=…`), as the store loads them: the
        /// next batch moves them into the engine's own index (`windows`), so this is empty once counting runs.
        public var times: [String: [Double]] = [:]
        /// Fired keys (`detection|key|time`, or `detection|key|event id` for uplink changes), as persisted.
        public var fired: Set<String> = [] {
            // Without `oldValue`, an insert happens in place; an observer that reads it copies the whole set each time.
            didSet { lastFiredIsCurrent = false }
        }
        /// Recent event times, sorted, per detection (by `Kind` order) and subject (the user id or IP alone): short
        /// keys that cost no allocation and little hashing per event.
        var windows: [[String: [Double]]] = Array(repeating: [:], count: Kind.allCases.count)
        /// The newest event time counted, and events counted since the last sweep of idle keys.
        var newestCounted = -Double.infinity
        var countedSinceSweep = 0
        /// Idle keys are looked for once per this many counted events: a year of audit logs meets millions of IPs.
        public static let sweepEvery = 65_536
        /// When each (detection, key) last fired, read from `fired`; rebuilt when `fired` changed other than by the engine.
        private(set) var lastFired: [String: Double] = [:]
        private var lastFiredIsCurrent = true
        public init() {}

        /// The same counts and fired keys (`lastFired` is derived from them).
        public static func == (lhs: State, rhs: State) -> Bool {
            lhs.times == rhs.times && lhs.windows == rhs.windows && lhs.fired == rhs.fired
        }

        /// Brings what the engine reads up to date with what was set from outside (`times`, `fired`).
        mutating func prepare() {
            if !times.isEmpty { moveTimesIntoWindows() }
            guard !lastFiredIsCurrent else { return }
            lastFired.removeAll()
            for key in fired { Self.note(key, in: &lastFired) }
            lastFiredIsCurrent = true
        }

        private mutating func moveTimesIntoWindows() {
            var unknown: [String: [Double]] = [:]
            for (name, values) in times {
                guard let bar = name.firstIndex(of: "|"), let kind = Kind(rawValue: String(name[..<bar])),
                    let subject = kind.subject(ofKey: name[name.index(after: bar)...])
                else {
                    unknown[name] = values
                    continue
                }
                windows[kind.index][subject, default: []].append(contentsOf: values)
                windows[kind.index][subject]!.sort()
            }
            // Kept as they were: no built-in rule reads them.
            times = unknown
        }

        /// Forgets the keys whose last count is further behind the newest event counted than their detection's horizon
        /// (`RuleEngine.idleHorizons`): memory stays bounded by the keys active lately, not by all keys ever seen.
        mutating func sweep(_ horizons: [Double]) {
            countedSinceSweep = 0
            for index in windows.indices where horizons[index].isFinite {
                let oldest = newestCounted - horizons[index]
                windows[index] = windows[index].filter { ($0.value.last ?? -.infinity) >= oldest }
            }
        }

        /// A key the engine fired: `lastFired` follows without being rebuilt.
        mutating func recordFired(_ key: String) {
            prepare()
            fired.insert(key)
            Self.note(key, in: &lastFired)
            lastFiredIsCurrent = true
        }

        static func note(_ key: String, in last: inout [String: Double]) {
            guard let bar = key.lastIndex(of: "|"), let time = Double(key[key.index(after: bar)...]) else { return }
            let head = String(key[..<bar])
            last[head] = max(last[head] ?? time, time)
        }
    }
}

extension RuleEngine.Kind {
    /// Position in `allCases`: the index of the detection's windows.
    var index: Int {
        switch self {
        case .sensitiveFileDownloads: 0
        case .filenameKeywords: 1
        case .maxDailyDownload: 2
        case .failedLoginsByIP: 3
        case .publicIPChange: 4
        }
    }

    /// How the counting key names its subject: `ip=203.0.113.7`, `user=W123`, `device=Q2XX-…`.
    var keyPrefix: String {
        switch self {
        case .failedLoginsByIP: "ip="
        case .sensitiveFileDownloads, .filenameKeywords, .maxDailyDownload: "user="
        case .publicIPChange: "device="
        }
    }

    func key(subject: String) -> String { keyPrefix + subject }

    func subject(ofKey key: Substring) -> String? {
        key.hasPrefix(keyPrefix) ? String(key.dropFirst(keyPrefix.count)) : nil
    }
}
