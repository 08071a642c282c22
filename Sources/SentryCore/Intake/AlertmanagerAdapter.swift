import Foundation

/// Prometheus Alertmanager's `webhook_config` body (version 4): a group of alerts, re-sent every
/// `group_interval`; each alert resolves on its own (`status: resolved`).
public enum AlertmanagerAdapter: EngineAdapter {
    public static let engine = Engine(id: "alertmanager", name: "Alertmanager", detectionPrefix: "alertmanager")
    public static let fieldRoots = ["labels.", "annotations."]

    public static func looksLike(_ body: [String: JSONValue]) -> Bool {
        AlertGroupBody.hasGroupShape(body) && !AlertGroupBody.isGrafana(body)
    }

    public static func decode(_ body: IntakeObject) throws(EngineIntakeError) -> EngineIntake {
        try AlertGroupBody.decode(body, engine: engine) { _, _, _ throws(EngineIntakeError) in }
    }
}
