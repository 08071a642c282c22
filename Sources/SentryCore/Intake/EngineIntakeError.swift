import Foundation

/// Why an engine's body was refused: the path of the field that could not be read, or the engine it looks like.
public enum EngineIntakeError: Error, Equatable, Sendable, CustomStringConvertible {
    case notJSON
    /// `data.essentials.alertId missing`: absent, null or empty.
    case missing(path: String)
    /// `alerts[0].labels must be an object`.
    case wrongType(path: String, expected: String)
    /// `alerts[1].status must be firing or resolved`.
    case invalid(path: String, reason: String)
    /// A body of another engine (or of `/hooks/detections`) posted to this engine's hook.
    case wrongEngine(hook: Engine, looksLike: Engine)

    /// The field the error is about, if it is about one.
    public var path: String? {
        switch self {
        case .notJSON, .wrongEngine: nil
        case .missing(let path), .wrongType(let path, _), .invalid(let path, _): path
        }
    }

    public var description: String {
        switch self {
        case .notJSON:
            return "body is not valid JSON"
        case .missing(let path):
            return "\(path) missing"
        case .wrongType(let path, let expected):
            return "\(path) must be \(expected)"
        case .invalid(let path, let reason):
            return "\(path) \(reason)"
        case .wrongEngine(let hook, let other):
            return "this body looks like \(other.withArticle) body, not \(hook.withArticle) one: POST it to \(other.hookPath)"
        }
    }
}
