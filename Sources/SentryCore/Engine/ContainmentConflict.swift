import Foundation

/// A containment of some target that is neither released nor rejected, as a store lists it.
public struct LiveContainment: Equatable, Sendable {
    public var containmentID: String
    public var alertID: String
    public var status: String

    public init(containmentID: String, alertID: String, status: String) {
        self.containmentID = containmentID
        self.alertID = alertID
        self.status = status
    }
}

/// One live block per target across all alerts (the rule and its sentence are `Containment.holdsTarget` and
/// `Containment.alreadyHeld`), checked by the engine against what the store holds for every alert.
public enum ContainmentConflict {
    /// Why `request` must not go ahead, given the live containments of its kind and target; nil when it may.
    public static func reason(for request: ContainmentRequest, live: [LiveContainment]) -> String? {
        guard let other = live.first(where: { $0.containmentID != request.id }) else { return nil }
        return Containment.alreadyHeld(
            kind: request.kind, target: request.target, by: other.containmentID, status: Containment.Status(rawValue: other.status) ?? .active,
            onAlert: other.alertID)
    }

    /// The transition that refuses `request` on `alert`: nothing changes, the requester is told why.
    public static func refusal(_ request: ContainmentRequest, on alert: Alert?, reason: String) -> Transition {
        Transition(
            alert: alert, outcome: .ignored(reason),
            effects: [.tellUser(userID: request.requestedBy, text: "Nothing to do: \(reason).", responseURL: request.responseURL)])
    }
}
