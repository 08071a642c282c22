import Foundation

/// The buttons an alert message carries that act on the alert itself.
public enum AlertAction: String, Codable, Sendable, CaseIterable {
    case ack, resolve, dismiss
}

/// A button press, with what the caller already knows about the person pressing it.
public struct Click: Codable, Equatable, Sendable {
    public var action: AlertAction
    public var userID: String
    /// Whether this user may act on this alert (responder lists resolved by the caller).
    public var mayAct: Bool
    /// Where an ephemeral answer to this user goes.
    public var responseURL: String?

    public init(action: AlertAction, userID: String, mayAct: Bool, responseURL: String? = nil) {
        self.action = action
        self.userID = userID
        self.mayAct = mayAct
        self.responseURL = responseURL
    }
}

/// Timers are rows with a due time; one per kind per alert.
public enum TimerKind: RawRepresentable, Codable, Equatable, Hashable, Sendable {
    case ackTimeout
    /// A containment's time-to-live ran out: roll it back.
    case containmentExpiry(String)
    /// Approved-only: the primary uplink has stayed active for the debounce: roll it back.
    case primaryRestored(String)
    /// A snooze ran out.
    case snoozeExpiry
    /// The subject did not answer the question in time (`confirm_with_subject`).
    case confirmTimeout
    /// The weekly digest is due (`WeeklyDigest`: channel and schedule, on the pseudo alert `WeeklyDigest.timerAlertID`).
    case weeklyDigest(String)

    public init?(rawValue: String) {
        if rawValue == "ack_timeout" {
            self = .ackTimeout
        } else if rawValue == "snooze_expiry" {
            self = .snoozeExpiry
        } else if rawValue == "confirm_timeout" {
            self = .confirmTimeout
        } else if rawValue.hasPrefix("expiry:"), rawValue.count > "expiry:".count {
            self = .containmentExpiry(String(rawValue.dropFirst("expiry:".count)))
        } else if rawValue.hasPrefix("digest:"), rawValue.count > "digest:".count {
            self = .weeklyDigest(String(rawValue.dropFirst("digest:".count)))
        } else if rawValue.hasPrefix("restored:"), rawValue.count > "restored:".count {
            self = .primaryRestored(String(rawValue.dropFirst("restored:".count)))
        } else {
            return nil
        }
    }

    public var rawValue: String {
        switch self {
        case .ackTimeout: "ack_timeout"
        case .containmentExpiry(let id): "expiry:\(id)"
        case .primaryRestored(let id): "restored:\(id)"
        case .snoozeExpiry: "snooze_expiry"
        case .confirmTimeout: "confirm_timeout"
        case .weeklyDigest(let settings): "digest:\(settings)"
        }
    }
}

/// Facts that happened to an alert, in the past tense.
public enum AlertEvent: Equatable, Sendable {
    case detectionReceived(Detection, playbook: Playbook, channel: String)
    case detectionGrouped(Detection)
    case clicked(Click)
    case messagePosted(MessageRef)
    case postFailed(reason: String)
    case timerFired(TimerKind)
    case containmentRequested(ContainmentRequest)
    case containmentDecided(ContainmentDecision)
    /// The runner finished executing (or rolling back) a containment.
    case containmentSucceeded(id: String, phase: ContainmentPhase, report: String)
    case containmentFailed(id: String, phase: ContainmentPhase, reason: String)
    /// An appliance failed over to cellular or its primary uplink is active again.
    case uplinkChanged(UplinkChange)
    /// A responder quiets the alert for a while (the Snooze… form).
    case snoozeRequested(SnoozeRequest)
    /// A responder ends a snooze early (the Unsnooze button or `/sentry unsnooze`).
    case unsnoozeRequested(Unsnooze)
    /// The engine said one of its alerts grouped here is over (`engineAlert`: its `EngineDetection.engineAlertID`).
    case engineResolved(EngineResolution, engineAlert: String)
    /// The question reached the subject's direct messages.
    case subjectAsked(MessageRef)
    /// The subject was not asked: why, in words for the thread (a deactivated or bot account, a failed message).
    case subjectNotAsked(reason: String)
    /// Someone pressed Yes or No on the question.
    case subjectAnswered(ConfirmClick)
}

/// Commands for the outside world, executed by the effect runner (timers by the store).
public enum AlertEffect: Codable, Equatable, Sendable {
    /// Post the alert message, rendered from the alert's state when it runs.
    case postAlert
    /// Re-render the message; pending updates of one alert coalesce into one.
    case updateMessage
    case replyInThread(text: String)
    /// A message in another channel (escalation channel).
    case postNotice(channel: String, text: String)
    /// A Block Kit message in a channel, not tied to an alert (the weekly digest); `text` is its notification and
    /// fallback text.
    case postReport(channel: String, text: String, blocks: JSONValue)
    /// An ephemeral answer to one user.
    case tellUser(userID: String, text: String, responseURL: String?)
    case scheduleTimer(TimerKind, at: Date)
    case cancelTimer(TimerKind)
    /// Carry out a containment (idempotent: repeating it after a crash is harmless).
    case executeContainment(id: String)
    /// Roll a containment back (idempotent, removes only what this containment added).
    case releaseContainment(id: String)
    /// Ask the subject in a direct message whether it was them (`users.info` first: deactivated and bot users
    /// are never asked); posted at most once.
    case askSubject(userID: String)
    /// Re-render the question in the subject's direct messages (answered or expired: no buttons left).
    case updateQuestion
}

/// Whether an event changed the alert, and if not, why.
public enum Outcome: Equatable, Sendable {
    case applied
    /// Harmless and expected: a retry, a double click, a late result.
    case ignored(String)
    /// Not allowed: the caller should tell whoever sent it.
    case rejected(String)
}

/// An audit line the store adds to the hash chain, in the same transaction as the change.
public struct AuditRecord: Codable, Equatable, Sendable {
    public var action: String
    public var actor: String
    public var detail: String

    public init(action: String, actor: String, detail: String) {
        self.action = action
        self.actor = actor
        self.detail = detail
    }
}

/// The result of one event: the new state, what to do, and what to record.
public struct Transition: Equatable, Sendable {
    public var alert: Alert?
    public var outcome: Outcome
    public var effects: [AlertEffect]
    public var audit: AuditRecord?

    public init(alert: Alert?, outcome: Outcome, effects: [AlertEffect] = [], audit: AuditRecord? = nil) {
        self.alert = alert
        self.outcome = outcome
        self.effects = effects
        self.audit = audit
    }
}
