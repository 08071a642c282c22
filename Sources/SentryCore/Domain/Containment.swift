import Foundation

/// Which half of a containment's life an execution result is about.
public enum ContainmentPhase: String, Codable, Sendable {
    case execute, release
}

/// A time-boxed block of a Slack user or an IP address, with its approvals and its rollback.
public struct Containment: Codable, Equatable, Sendable {
    public enum Status: String, Codable, Sendable, CaseIterable {
        case awaitingApproval = "awaiting_approval"
        case executing
        case active
        case releasing
        case released
        case rejected
        case failed

        /// Nothing more happens to it.
        public var isFinal: Bool { self == .released || self == .rejected }
    }

    public var id: String
    public var kind: ContainmentAction.Kind
    /// A Slack user id, or an IP address / CIDR.
    public var target: String
    public var reason: String
    public var ttl: Int
    public var requestedBy: String
    public var requestedAt: Date
    public var approvalsRequired: Int
    public var approvals: [String]
    public var status: Status
    /// Which phase failed, when `status == .failed`.
    public var failedPhase: ContainmentPhase?
    public var failure: String?
    public var activeSince: Date?
    public var activeUntil: Date?
    public var releasedAt: Date?
    /// Who released it, or `expiry`.
    public var releasedBy: String?
    public var rejectedBy: String?
    public var dryRun: Bool
    /// What the executor reported (networks written, sessions reset, …).
    public var report: String?
    /// Approved-only: the sources and timing, copied from the playbook when requested.
    public var approvedOnly: ApprovedOnlySettings?
    /// Approved-only: when the network went onto cellular.
    public var failoverAt: Date?
    /// Approved-only: when its primary uplink was seen active again; the rollback waits out the debounce from there.
    public var primaryBackAt: Date?

    public init(
        id: String, kind: ContainmentAction.Kind, target: String, reason: String, ttl: Int, requestedBy: String, requestedAt: Date,
        approvalsRequired: Int, approvals: [String], status: Status, dryRun: Bool
    ) {
        self.id = id
        self.kind = kind
        self.target = target
        self.reason = reason
        self.ttl = ttl
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.approvalsRequired = approvalsRequired
        self.approvals = approvals
        self.status = status
        self.dryRun = dryRun
    }

    public var label: String { Self.label(kind, target) }
}

/// A responder asked for a containment (modal submission or `/sentry block-ip`).
public struct ContainmentRequest: Codable, Equatable, Sendable {
    public var id: String
    public var kind: ContainmentAction.Kind
    public var target: String
    public var ttl: Int
    public var reason: String
    public var requestedBy: String
    public var mayContain: Bool
    public var approvalsRequired: Int
    public var dryRun: Bool
    public var responseURL: String?

    public init(
        id: String, kind: ContainmentAction.Kind, target: String, ttl: Int, reason: String, requestedBy: String,
        mayContain: Bool, approvalsRequired: Int, dryRun: Bool, responseURL: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.target = target
        self.ttl = ttl
        self.reason = reason
        self.requestedBy = requestedBy
        self.mayContain = mayContain
        self.approvalsRequired = approvalsRequired
        self.dryRun = dryRun
        self.responseURL = responseURL
    }
}

/// A click on a containment's button: approve, reject, unblock or retry.
public struct ContainmentDecision: Codable, Equatable, Sendable {
    public enum Action: String, Codable, Sendable, CaseIterable {
        case approve, reject, unblock, retry
    }
    public var containmentID: String
    public var action: Action
    public var userID: String
    public var mayContain: Bool
    public var responseURL: String?

    public init(containmentID: String, action: Action, userID: String, mayContain: Bool, responseURL: String? = nil) {
        self.containmentID = containmentID
        self.action = action
        self.userID = userID
        self.mayContain = mayContain
        self.responseURL = responseURL
    }
}

/// The one rule for what a containment may target, applied by the machine wherever a containment is requested
/// (button, form, slash command), so no entry path can skip it.
public enum ContainmentTarget {
    /// The canonical target and a note for the responder (empty when unremarkable); or why it cannot be contained.
    public static func validate(kind: ContainmentAction.Kind, target: String) throws(BlockTarget.Invalid) -> (target: String, note: String) {
        switch kind {
        case .blockIP:
            return try BlockTarget.ip(target)
        case .blockUser:
            guard SlackID.isUser(target) else {
                throw BlockTarget.Invalid(description: "`\(target.prefix(30))` is not a Slack user id (U… or W… and capitals or digits)")
            }
            return (target, "")
        case .approvedOnly:
            // Meraki network ids are `N_…` or `L_…` and digits; anything else cannot be a network.
            let valid =
                !target.isEmpty && target.count <= 64
                && target.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 || $0 == 45 }
            guard valid else { throw BlockTarget.Invalid(description: "`\(target.prefix(30))` is not a Meraki network id") }
            return (target, "")
        }
    }

    /// What a containment on this alert targets: its subject's address or user, canonical; nil when it has none or
    /// the subject is not a valid target.
    public static func subjectTarget(of alert: Alert, kind: ContainmentAction.Kind) -> String? {
        let raw: String?
        switch kind {
        case .blockIP: raw = alert.subject.ip
        case .blockUser: raw = alert.subject.slackUserID
        case .approvedOnly: raw = alert.isCellularFailover ? alert.subject.merakiNetworkID : nil
        }
        return raw.flatMap { try? validate(kind: kind, target: $0).target }
    }
}

/// What a block-IP target is, and what blocking it will do — said to the responder before anything runs.
public enum BlockTarget {
    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Validates an IP or CIDR; returns its canonical text and a note for the responder (empty when unremarkable).
    public static func ip(_ text: String) throws(Invalid) -> (target: String, note: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var addressText = trimmed
        var prefix: Int?
        if let slash = trimmed.firstIndex(of: "/") {
            addressText = String(trimmed[..<slash])
            guard let bits = Int(trimmed[trimmed.index(after: slash)...]) else {
                throw Invalid(description: "`\(trimmed.prefix(50))` is not an IP address or CIDR (prefix length must be a number)")
            }
            prefix = bits
        }
        guard let address = IPAddress(addressText) else {
            throw Invalid(description: "`\(trimmed.prefix(50))` is not an IPv4 or IPv6 address")
        }
        let maxBits = address.family == .v4 ? 32 : 128
        if let prefix, !(0...maxBits).contains(prefix) {
            throw Invalid(description: "prefix /\(prefix) is out of range for \(address.family == .v4 ? "IPv4 (0–32)" : "IPv6 (0–128)")")
        }
        if let prefix, prefix < (address.family == .v4 ? 16 : 48) {
            throw Invalid(description: "/\(prefix) is too wide to block (at most a /16 for IPv4 or a /48 for IPv6)")
        }
        let bits = prefix ?? maxBits
        if !hostBitsAreZero(address.bytes, prefix: bits) {
            throw Invalid(description: "`\(trimmed)` has host bits set; did you mean the network address of that /\(bits)?")
        }
        let canonical = bits == maxBits ? address.description : "\(address.description)/\(bits)"
        let b = address.bytes
        if address.family == .v4 {
            if b[0] == 0 || b[0] == 127 || b[0] >= 224 || (b[0] == 169 && b[1] == 254) {
                throw Invalid(
                    description:
                        "`\(canonical)` is a loopback, link-local, multicast or reserved address; blocking it would do nothing useful or break your own networks"
                )
            }
            if b[0] == 10 || (b[0] == 172 && (16...31).contains(b[1])) || (b[0] == 192 && b[1] == 168) || (b[0] == 100 && (64...127).contains(b[1])) {
                return (
                    canonical,
                    "`\(canonical)` is a private address: the rule stops your networks' traffic to it, and if it is a client of a Meraki network that client's policy is set to Blocked."
                )
            }
            return (canonical, "")
        }
        if b.prefix(15).allSatisfy({ $0 == 0 }) || b[0] == 0xff || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
            throw Invalid(description: "`\(canonical)` is a loopback, unspecified, link-local or multicast IPv6 address")
        }
        var note =
            "`\(canonical)` is IPv6: the rule is written with an IPv6 destination; a network whose appliance firmware does not accept IPv6 rules reports a failure for that network."
        if (b[0] & 0xfe) == 0xfc { note += " It is a unique-local (private) address." }
        return (canonical, note)
    }

    static func hostBitsAreZero(_ bytes: [UInt8], prefix: Int) -> Bool {
        for (index, byte) in bytes.enumerated() {
            let start = index * 8
            if start >= prefix {
                if byte != 0 { return false }
            } else if start + 8 > prefix {
                let keep = prefix - start
                let mask = UInt8(0xff) >> UInt8(keep)
                if byte & mask != 0 { return false }
            }
        }
        return true
    }
}
