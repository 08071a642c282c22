import Foundation
import Synchronization

/// One effect as the outbox keeps it: the key that makes a retried write harmless, the key pending updates
/// coalesce on, and whether it waits in its alert's lane.
public struct OutboxItem: Equatable, Sendable {
    public var effect: AlertEffect
    public var alertID: String?
    public var idempotencyKey: String
    /// Pending items with the same coalesce key are one item: a pending update already renders the latest state.
    public var coalesceKey: String?
    /// Ordered effects of one alert run one after another; answers to users do not wait in line.
    public var ordered: Bool

    public init(effect: AlertEffect, alertID: String?, idempotencyKey: String, coalesceKey: String? = nil, ordered: Bool) {
        self.effect = effect
        self.alertID = alertID
        self.idempotencyKey = idempotencyKey
        self.coalesceKey = coalesceKey
        self.ordered = ordered
    }

    /// An effect that belongs to no alert (an answer to an app mention), under a caller's idempotency key.
    public static func unattached(_ effect: AlertEffect, idempotencyKey: String) -> OutboxItem {
        OutboxItem(effect: effect, alertID: nil, idempotencyKey: idempotencyKey, ordered: isOrdered(effect))
    }

    public static func isOrdered(_ effect: AlertEffect) -> Bool {
        if case .tellUser = effect { return false }
        return true
    }
}

/// Everything one transition writes, worked out before any store sees it, so every store writes the same rows:
/// the alert at its next revision, one audit entry, timers set and cancelled, and outbox items.
public struct TransitionRecord: Equatable, Sendable {
    public var alertID: String
    /// The alert to save, when the transition changed it.
    public var save: Alert?
    /// The revision the stored row must still have (nil: the alert is new). A store that finds another one
    /// throws a conflict and writes nothing.
    public var expectedRevision: Int64?
    /// The revision the saved alert gets.
    public var nextRevision: Int64
    public var audit: AuditRecord?
    /// The alert the audit entry belongs to (nil for an event about no stored alert).
    public var auditAlertID: String?
    /// Timers set (or moved) and cancelled, in the order the transition asked for them.
    public var timers: [TimerChange]
    public var outbox: [OutboxItem]

    public init(_ transition: Transition, alertID: String, revision: Int64?) {
        self.alertID = alertID
        expectedRevision = revision
        let applied = transition.outcome == .applied && transition.alert != nil
        save = applied ? transition.alert : nil
        nextRevision = (revision ?? 0) + (applied ? 1 : 0)
        audit = transition.audit
        auditAlertID = transition.alert == nil && revision == nil ? nil : alertID
        timers = []
        outbox = []
        // Effects of a change are keyed by the revision they come from; effects of an ignored event (an answer
        // to a double click) are fresh each time.
        let stem = transition.outcome == .applied ? "\(nextRevision)" : IgnoredEventStem.next()
        for (index, effect) in transition.effects.enumerated() {
            switch effect {
            case .scheduleTimer(let kind, let due):
                timers.append(.set(kind, due: due))
            case .cancelTimer(let kind):
                timers.append(.cancel(kind))
            default:
                let coalesce: String?
                switch effect {
                case .updateMessage:
                    coalesce = "update:\(alertID)"
                case .updateQuestion:
                    coalesce = "question:\(alertID)"
                case .tellUser(let user, _, _):
                    // Someone clicking a finished alert five times needs one answer, not five.
                    coalesce = "tell:\(alertID):\(user)"
                default:
                    coalesce = nil
                }
                outbox.append(
                    OutboxItem(
                        effect: effect, alertID: transition.alert == nil ? nil : alertID, idempotencyKey: "\(alertID)#\(stem).\(index)",
                        coalesceKey: coalesce, ordered: OutboxItem.isOrdered(effect)))
            }
        }
    }
}

/// The stem of an ignored event's effect keys: unique to this process (a random prefix drawn once) and to the
/// event (a counter). `UUID()` per event asked the kernel for random bytes on every double click.
enum IgnoredEventStem {
    private static let prefix = String(UInt64.random(in: .min ... .max), radix: 16)
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let (_, value) = counter.add(1, ordering: .relaxed)
        return "\(prefix)-\(value)"
    }
}

/// A timer a transition sets (or moves; one per alert and kind) or cancels.
public enum TimerChange: Equatable, Sendable {
    case set(TimerKind, due: Date)
    case cancel(TimerKind)
}
