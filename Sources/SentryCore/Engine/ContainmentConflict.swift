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

/// One live block per target across all alerts: two would each record the other's state as "before" and the
/// second rollback would undo the first block.
public enum ContainmentConflict {
    /// Why `request` must not go ahead, given the live containments of its kind and target; nil when it may.
    public static func reason(for request: ContainmentRequest, live: [LiveContainment]) -> String? {
        guard let other = live.first(where: { $0.containmentID != request.id }) else { return nil }
        let status = other.status.replacingOccurrences(of: "_", with: " ")
        return "\(request.target) is already \(status) as \(other.containmentID) on alert \(other.alertID)"
    }

    /// The transition that refuses `request` on `alert`: nothing changes, the requester is told why.
    public static func refusal(_ request: ContainmentRequest, on alert: Alert?, reason: String) -> Transition {
        Transition(
            alert: alert, outcome: .ignored(reason),
            effects: [.tellUser(userID: request.requestedBy, text: "Nothing to do: \(reason).", responseURL: request.responseURL)])
    }
}
