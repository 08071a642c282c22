import Foundation

/// The organisation's appliances by the names MX syslog lines give them: maps a line's device to its serial and network.
///
/// An MX line carries one token for its name, where the Dashboard name may hold spaces (`Branch MX`); the token is
/// matched against the name as written, the name with each run of whitespace as `_`, and the serial, then the same
/// without regard to case. Names are not unique in an organisation: a name two appliances share maps to neither
/// (a wrong serial on an alert is worse than none).
public struct DeviceNameIndex: Sendable, Equatable {
    /// One appliance as the device list tells it.
    public struct Appliance: Sendable, Equatable, Hashable {
        public var serial: String
        public var networkID: String?
        public var name: String?

        public init(serial: String, networkID: String?, name: String?) {
            self.serial = serial
            self.networkID = networkID
            self.name = name
        }
    }

    public enum Lookup: Sendable, Equatable {
        case found(Appliance)
        /// The serials of the appliances that share the name, sorted.
        case ambiguous([String])
        case unknown
    }

    private var exact: [String: Set<Appliance>] = [:]
    private var folded: [String: Set<Appliance>] = [:]
    public private(set) var count = 0

    public init(_ appliances: [Appliance]) {
        for appliance in Set(appliances) where !appliance.serial.isEmpty {
            count += 1
            var keys: Set<String> = [appliance.serial]
            if let name = appliance.name?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
                keys.insert(name)
                keys.insert(Self.underscored(name))
            }
            for key in keys {
                exact[key, default: []].insert(appliance)
                folded[key.lowercased(), default: []].insert(appliance)
            }
        }
    }

    public func lookup(_ name: String) -> Lookup {
        let token = name.trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return .unknown }
        for candidates in [exact[token], folded[token.lowercased()]] {
            guard let candidates, !candidates.isEmpty else { continue }
            if candidates.count == 1, let only = candidates.first { return .found(only) }
            return .ambiguous(candidates.map(\.serial).sorted())
        }
        return .unknown
    }

    static func underscored(_ name: String) -> String {
        name.split(whereSeparator: \.isWhitespace).joined(separator: "_")
    }
}

/// When the device list behind a `DeviceNameIndex` is read again; pure (time is passed in).
///
/// The list is read on first use and again once it is `refreshEvery` old; a name it does not hold reads it again
/// at once (a device renamed or added since), but never sooner than `retryAfter` after the last read, so a line
/// from an appliance the organisation does not have, or a Dashboard that is down, costs one call a minute, not one
/// per line. A failed read keeps the index it had.
public struct DeviceNameCache: Sendable, Equatable {
    public enum Answer: Sendable, Equatable {
        case lookup(DeviceNameIndex.Lookup)
        /// Read the device list, record it (`loaded` or `loadFailed`), then ask again.
        case loadFirst
    }

    public static let defaultRefreshEvery: TimeInterval = 900
    public static let defaultRetryAfter: TimeInterval = 60

    public var refreshEvery: TimeInterval
    public var retryAfter: TimeInterval
    public private(set) var index: DeviceNameIndex?
    public private(set) var loadedAt: Date?
    public private(set) var attemptedAt: Date?

    public init(refreshEvery: TimeInterval = DeviceNameCache.defaultRefreshEvery, retryAfter: TimeInterval = DeviceNameCache.defaultRetryAfter) {
        self.refreshEvery = refreshEvery
        self.retryAfter = retryAfter
    }

    public func answer(_ name: String, now: Date) -> Answer {
        let mayLoad = attemptedAt.map { now.timeIntervalSince($0) >= retryAfter || now < $0 } ?? true
        guard let index else { return mayLoad ? .loadFirst : .lookup(.unknown) }
        if mayLoad, let loadedAt, now.timeIntervalSince(loadedAt) >= refreshEvery || now < loadedAt { return .loadFirst }
        let found = index.lookup(name)
        if found == .unknown, mayLoad { return .loadFirst }
        return .lookup(found)
    }

    public mutating func loaded(_ index: DeviceNameIndex, at now: Date) {
        self.index = index
        loadedAt = now
        attemptedAt = now
    }

    public mutating func loadFailed(at now: Date) {
        attemptedAt = now
    }
}
