/// One live containment per kind and target, on any alert: a second would record the first one's changes as the
/// state before, and its rollback would undo them. Live is anything not yet released or rejected.
extension Containment {
    /// Whether this containment holds its target, so that no other of its kind may take it.
    public var holdsTarget: Bool { !status.isFinal }

    /// Why a request for a target that a live containment holds changes nothing. `alertID` names the alert that
    /// holds it when that is another one.
    public static func alreadyHeld(kind: ContainmentAction.Kind, target: String, by id: String, status: Status, onAlert alertID: String? = nil)
        -> String
    {
        let holder = alertID.map { "as `\(id)` on alert `\($0)`" } ?? "(\(id))"
        return "\(label(kind, target)) is already \(status.described) \(holder)"
    }

    /// "Block IP `203.0.113.7`", "Block user <@U123>", "Approved devices only on `N_1`".
    public static func label(_ kind: ContainmentAction.Kind, _ target: String) -> String {
        switch kind {
        case .blockUser: "Block user \(SlackID.mention(target))"
        case .blockIP: "Block IP `\(target)`"
        case .approvedOnly: "Approved devices only on `\(target)`"
        }
    }
}

extension Containment.Status {
    /// As a sentence says it: "is already awaiting approval", "is being rolled back".
    public var described: String {
        switch self {
        case .awaitingApproval: "awaiting approval"
        case .executing: "being executed"
        case .active: "active"
        case .releasing: "being rolled back"
        case .released: "already rolled back"
        case .rejected: "rejected"
        case .failed: "failed (press Retry)"
        }
    }
}
