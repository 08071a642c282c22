import SentryCore

/// Carries out and rolls back containments against Slack and Meraki. Both calls must be idempotent:
/// after a crash the runner calls them again, and repeating must change nothing twice.
public protocol ContainmentExecutor: Sendable {
    /// Returns a short report for the thread ("deny rule added on 3 networks").
    func execute(_ containment: Containment) async throws -> String
    /// Removes only what `execute` added; returns a short report.
    func release(_ containment: Containment) async throws -> String
}

/// Why a containment step did not succeed. The reason is shown in the alert's thread: Sentry's own words,
/// never a service's (the executor logs those).
public enum ContainmentError: Error, Equatable, CustomStringConvertible {
    /// Trying again cannot help (unknown user, primary owner, no networks with an appliance, …).
    case permanent(String)
    /// Trying again later may help (rate limits, timeouts, 5xx).
    case transient(String)

    public var description: String {
        switch self {
        case .permanent(let reason), .transient(let reason): reason
        }
    }
}

extension ContainmentError {
    /// The service this kind needs is not configured: trying again cannot help until someone sets it.
    public static func notConfigured(_ kind: ContainmentAction.Kind) -> ContainmentError { .permanent(kind.notConfigured) }
}

extension ContainmentError: ClassifiedError {
    public var failureClass: FailureClass {
        if case .transient = self { return .transient }
        return .permanent
    }

    public var userFacing: String { description }
}
