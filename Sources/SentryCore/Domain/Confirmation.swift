import Foundation

/// A playbook's `confirm_with_subject`: ask the Slack user an alert is about whether it was them.
public struct ConfirmSettings: Codable, Equatable, Sendable {
    /// Seconds the user has to answer before the playbook's escalation.
    public var timeout: Int
    /// The question in the playbook's own words; nil asks in words made from the detection.
    public var question: String?

    public init(timeout: Int, question: String? = nil) {
        self.timeout = timeout
        self.question = question
    }
}

/// The question put to an alert's subject and what came of it.
public struct Confirmation: Codable, Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        /// The direct message is queued.
        case asking
        /// The direct message is in the user's DMs; waiting for a button.
        case asked
        /// "Yes, it was me".
        case confirmed
        /// "No, it wasn't me": confirmed malicious by the user.
        case denied
        /// No answer before the timeout.
        case expired
        /// Never asked: a deactivated or bot account, or the message could not be sent.
        case notAsked = "not_asked"
    }

    public var userID: String
    public var state: State
    public var requestedAt: Date
    /// When an answer stops counting.
    public var dueAt: Date
    /// The direct message, once sent.
    public var message: MessageRef?
    public var answeredAt: Date?
    /// Why the user was not asked.
    public var note: String?

    public init(
        userID: String, state: State, requestedAt: Date, dueAt: Date, message: MessageRef? = nil, answeredAt: Date? = nil, note: String? = nil
    ) {
        self.userID = userID
        self.state = state
        self.requestedAt = requestedAt
        self.dueAt = dueAt
        self.message = message
        self.answeredAt = answeredAt
        self.note = note
    }

    /// Still waiting for the user (queued or sent).
    public var isWaiting: Bool { state == .asking || state == .asked }
}

/// The two buttons of the question; their `action_id`s are public (DESIGN.md §4.5), their value is the alert id.
public enum ConfirmAnswer: String, Codable, Sendable, CaseIterable {
    case yes = "confirm_yes"
    case no = "confirm_no"

    public var label: String {
        switch self {
        case .yes: "Yes, it was me"
        case .no: "No, it wasn't me"
        }
    }
}

/// A press of a question button, with what the caller knows: who pressed it and whom a "No" mentions.
public struct ConfirmClick: Codable, Equatable, Sendable {
    public var answer: ConfirmAnswer
    public var userID: String
    public var responseURL: String?
    /// The responders a "No" mentions (the playbook's, else `SLACK_RESPONDERS`), resolved by the caller.
    public var responders: [String]

    public init(answer: ConfirmAnswer, userID: String, responseURL: String? = nil, responders: [String] = []) {
        self.answer = answer
        self.userID = userID
        self.responseURL = responseURL
        self.responders = responders
    }
}

/// What `users.info` says about a subject that decides whether they may be asked.
public struct SubjectAccount: Equatable, Sendable {
    public var deleted: Bool
    public var isBot: Bool
    public var isAppUser: Bool

    public init(deleted: Bool, isBot: Bool, isAppUser: Bool = false) {
        self.deleted = deleted
        self.isBot = isBot
        self.isAppUser = isAppUser
    }
}

/// Who is asked and who is not.
public enum ConfirmationRule {
    /// Detections whose subject is never a Slack user: `confirm_with_subject` on their playbooks is a mistake.
    public static let detectionsWithoutUser: Set<String> = ["slack.failed_logins_by_ip", "meraki.public_ip_change"]

    /// Why this account is never asked, in words for the thread; nil when it may be asked.
    public static func whyNotAsk(_ account: SubjectAccount) -> String? {
        if account.deleted { return "the account is deactivated" }
        if account.isBot || account.isAppUser { return "the account is a bot" }
        return nil
    }

    /// The Slack user a playbook with `confirm_with_subject` asks about this subject, if any.
    public static func userToAsk(_ subject: Subject) -> String? {
        guard let user = subject.slackUserID, SlackID.isUser(user) else { return nil }
        return user
    }
}

extension Severity {
    /// One step more urgent; critical stays critical.
    public var raised: Severity {
        switch self {
        case .low: .medium
        case .medium: .high
        case .high, .critical: .critical
        }
    }
}
