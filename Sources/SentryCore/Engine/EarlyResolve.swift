import Foundation

/// An engine's resolve that came before its firing (out of order, or a retry that overtook it): remembered for
/// the playbook's grouping window and applied when the firing arrives; after that, forgotten, and the firing
/// opens an alert as usual.
///
/// It is kept with the detection ids a store remembers (`recordDetection`) under a key of its own, so no store
/// needs a table for it: `key(firing:)` is never a detection id of an engine (those start with the engine's id),
/// and what is kept in place of an alert id is `stored(…)`, which no alert id looks like.
public struct EarlyResolve: Codable, Equatable, Sendable {
    public var resolution: EngineResolution
    public var engineAlert: String
    /// The resolve's own detection id, recorded against the alert once it applies (so its retries are duplicates).
    public var detectionID: String
    public var until: Date

    public init(resolution: EngineResolution, engineAlert: String, detectionID: String, until: Date) {
        self.resolution = resolution
        self.engineAlert = engineAlert
        self.detectionID = detectionID
        self.until = until
    }

    static let keyPrefix = "early-resolve:"
    static let valuePrefix = "~early-resolve "

    /// Where the resolve of the firing detection `firing` waits.
    public static func key(firing: String) -> String { keyPrefix + firing }

    /// The text kept under `key(firing:)`.
    public var stored: String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        let json = (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return Self.valuePrefix + json
    }

    /// The resolve kept as `stored`, while it still applies at `now`; nil once its window has passed, or for
    /// anything else.
    public static func recall(_ stored: String, now: Date) -> EarlyResolve? {
        guard stored.hasPrefix(valuePrefix) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        guard let early = try? decoder.decode(EarlyResolve.self, from: Data(stored.dropFirst(valuePrefix.count).utf8)) else { return nil }
        return early.until > now ? early : nil
    }
}
