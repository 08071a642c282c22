import Foundation

/// Guesses which engine wrote a body, so a body posted to the wrong hook is refused with the right name
/// ("looks like an Alertmanager body … POST it to /hooks/alertmanager").
public enum EngineSniffer {
    /// The engine whose shape the body has, `Engine.sentryWebhook` for a §4.4 detection, nil when none fits.
    public static func guess(_ body: [UInt8]) -> Engine? {
        guard let object = JSONValue.parse(body)?.objectValue else { return nil }
        return guess(object)
    }

    public static func guess(_ body: [String: JSONValue]) -> Engine? {
        if let adapter = EngineRegistry.adapters.first(where: { $0.looksLike(body) }) { return adapter.engine }
        if body["detection"]?.stringValue != nil, body["subject"]?.objectValue != nil { return .sentryWebhook }
        return nil
    }
}
