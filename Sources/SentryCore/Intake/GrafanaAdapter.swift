import Foundation

/// Grafana Alerting's webhook contact point: Alertmanager's group body plus `orgId`, `state` and, per alert,
/// `values`, `ruleUID` and dashboard links.
public enum GrafanaAdapter: EngineAdapter {
    public static let engine = Engine(id: "grafana", name: "Grafana", detectionPrefix: "grafana", credentials: [.bearer, .grafanaSignature])
    public static let fieldRoots = ["labels.", "annotations.", "values."]

    public static func looksLike(_ body: [String: JSONValue]) -> Bool {
        AlertGroupBody.hasGroupShape(body) && AlertGroupBody.isGrafana(body)
    }

    public static func decode(_ body: IntakeObject) throws(EngineIntakeError) -> EngineIntake {
        try AlertGroupBody.decode(body, engine: engine) { alert, evidence, fields throws(EngineIntakeError) in
            // `values` may be null; one number per query or expression.
            if let values = try alert.optionalObject("values") {
                var numbers: [String: JSONValue] = [:]
                for name in values.fields.keys.sorted() {
                    let value = values.fields[name]!
                    guard value.numberValue != nil, let text = IntakeText.scalar(value) else {
                        throw .wrongType(path: values.path(name), expected: "a number")
                    }
                    numbers[name] = value
                    fields["values." + name] = text
                }
                if !numbers.isEmpty { evidence["values"] = .object(numbers) }
            }
            if let rule = try alert.optionalString("ruleUID") { evidence["ruleUID"] = .string(rule) }
            if let dashboard = IntakeText.link(try alert.optionalString("dashboardURL")) { evidence["dashboardURL"] = .string(dashboard) }
        }
    }
}
