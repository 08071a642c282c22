import Foundation
import SentryCore
import SentryStore

/// One detection of an engine's body (`/hooks/<engine>`), with the playbook and channel its caller chose.
public struct EngineItem: Sendable {
    /// With the playbook's `subject_from:` applied and `engineAlert` set.
    public var detection: Detection
    /// The engine's word that the alert is over, with the id the alert had while it fired.
    public var resolution: EngineResolution?
    public var firingID: String?
    public var playbook: Playbook
    public var channel: String
    public var newAlertID: String

    public init(
        detection: Detection, resolution: EngineResolution? = nil, firingID: String? = nil, playbook: Playbook, channel: String, newAlertID: String
    ) {
        self.detection = detection
        self.resolution = resolution
        self.firingID = firingID
        self.playbook = playbook
        self.channel = channel
        self.newAlertID = newAlertID
    }
}

/// What the engine did with one `EngineItem`.
public struct EngineItemResult: Equatable, Sendable {
    public enum Status: String, Sendable {
        /// A firing detection, as for `/hooks/detections`.
        case created, grouped, duplicate
        /// A resolve applied to the alert its firing landed in (which may only have noted it: see `alertStatus`).
        case resolved
        /// A resolve whose firing has not arrived: kept for the grouping window (`EarlyResolve`).
        case remembered
        /// A resolve for an alert that is closed already, or that names no firing.
        case ignored
    }

    public var detectionID: String
    public var alertID: String?
    public var status: Status
    /// The alert's status after this step.
    public var alertStatus: AlertStatus?
    public var transitions: [Transition]
}

extension AlertEngine {
    /// An engine body's detections in one transaction: each firing one ingested as on `/hooks/detections` (and a
    /// resolve that came before it applied on arrival), each resolve applied to the alert of its firing.
    public func ingestEngine(_ items: [EngineItem], now: Date) async throws -> [EngineItemResult] {
        try await step { tx in
            var results: [EngineItemResult] = []
            for item in items { results.append(try await Self.ingestEngine(item, now: now, in: tx)) }
            return results
        }
    }

    static func ingestEngine(_ item: EngineItem, now: Date, in tx: any AlertTransaction) async throws -> EngineItemResult {
        let detection = item.detection
        guard let resolution = item.resolution else {
            let ingested = try await ingest(
                detection, playbook: item.playbook, channel: item.channel, newAlertID: item.newAlertID, now: now, in: tx)
            var transitions = ingested.transition.map { [$0] } ?? []
            if ingested.status != .duplicate, let stored = try await tx.alertID(forDetection: EarlyResolve.key(firing: detection.id)),
                let early = EarlyResolve.recall(stored, now: now)
            {
                transitions.append(
                    try await apply(.engineResolved(early.resolution, engineAlert: early.engineAlert), to: ingested.alertID, now: now, in: tx))
                if try await tx.alertID(forDetection: early.detectionID) == nil {
                    try await tx.recordDetection(early.detectionID, alertID: ingested.alertID, now: now)
                }
            }
            let status = EngineItemResult.Status(rawValue: ingested.status.rawValue) ?? .created
            let after = try await alertStatus(ingested.alertID, transitions, in: tx)
            return EngineItemResult(
                detectionID: detection.id, alertID: ingested.alertID, status: status, alertStatus: after, transitions: transitions)
        }
        if let seen = try await tx.alertID(forDetection: detection.id) {
            return EngineItemResult(
                detectionID: detection.id, alertID: seen, status: .duplicate, alertStatus: try await tx.alert(id: seen)?.alert.status, transitions: []
            )
        }
        guard let firing = item.firingID else {
            return EngineItemResult(detectionID: detection.id, alertID: nil, status: .ignored, alertStatus: nil, transitions: [])
        }
        let engineAlert = detection.engineAlert ?? firing
        guard let alertID = try await tx.alertID(forDetection: firing) else {
            let key = EarlyResolve.key(firing: firing)
            if try await tx.alertID(forDetection: key) == nil {
                let early = EarlyResolve(
                    resolution: resolution, engineAlert: engineAlert, detectionID: detection.id,
                    until: now.addingTimeInterval(TimeInterval(item.playbook.groupingWindow)))
                try await tx.recordDetection(key, alertID: early.stored, now: now)
            }
            return EngineItemResult(detectionID: detection.id, alertID: nil, status: .remembered, alertStatus: nil, transitions: [])
        }
        let transition = try await apply(.engineResolved(resolution, engineAlert: engineAlert), to: alertID, now: now, in: tx)
        try await tx.recordDetection(detection.id, alertID: alertID, now: now)
        let status: EngineItemResult.Status = transition.outcome == .applied ? .resolved : .ignored
        return EngineItemResult(
            detectionID: detection.id, alertID: alertID, status: status, alertStatus: try await alertStatus(alertID, [transition], in: tx),
            transitions: [transition])
    }

    private static func alertStatus(_ alertID: String, _ transitions: [Transition], in tx: any AlertTransaction) async throws -> AlertStatus? {
        if let last = transitions.last?.alert { return last.status }
        return try await tx.alert(id: alertID)?.alert.status
    }
}
