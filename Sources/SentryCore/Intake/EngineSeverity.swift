import Foundation

/// Engines' severities as ours (issue 16's table, one for every engine): Azure `Sev0`…`Sev4`; Sentinel, Panther,
/// Elastic and Splunk words; Alertmanager and Grafana `severity` labels. Case does not matter; anything else is
/// nil, and the playbook's severity applies.
public enum EngineSeverity {
    public static func map(_ text: String?) -> Severity? {
        guard let text else { return nil }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "sev0", "critical", "crit", "fatal", "emergency": return .critical
        case "sev1", "high", "error", "err": return .high
        case "sev2", "medium", "warning", "warn", "moderate": return .medium
        case "sev3", "sev4", "low", "info", "informational", "information", "verbose", "notice": return .low
        default: return nil
        }
    }
}
