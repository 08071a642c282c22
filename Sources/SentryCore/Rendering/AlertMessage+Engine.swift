import Foundation

extension AlertMessage {
    /// What the engine said beyond the detection, for the context line: that it considers the alert over while
    /// the alert stays open, and that it left alerts of the group out of its body (Alertmanager `max_alerts`).
    static func engineNotes(_ alert: Alert) -> String {
        var notes = ""
        if let resolution = alert.engineResolution, !alert.status.isFinished {
            notes += " · :information_source: \(escape(resolution.by)) says it is over\(resolution.at.map { " since \(SlackDate.format($0))" } ?? "")"
        }
        if let truncated = alert.evidence?["truncatedAlerts"]?.numberValue, truncated >= 1 {
            let name = EngineRegistry.adapter(forDetection: alert.detection)?.engine.name ?? "The engine"
            let count = Int(truncated)
            notes +=
                " · \(escape(name)) left \(count) more alert\(count == 1 ? "" : "s") of this group out of its message (max_alerts); see them in \(escape(name))"
        }
        return notes
    }
}
