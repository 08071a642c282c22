import Foundation

/// One syslog message split into its header fields, whichever of the supported shapes it arrived in.
public struct SyslogMessage: Equatable, Sendable {
    /// The header shape the message was recognised as.
    public enum Format: String, Equatable, Sendable {
        /// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD [MSG]`
        case rfc5424
        /// `<PRI>Mmm dd hh:mm:ss HOST TAG: MSG`
        case rfc3164
        /// `[<PRI>][1 ]<epoch>.<nanos> <device-name> <category> <payload>`, as a Meraki MX sends it.
        case meraki
    }

    public var format: Format
    /// `facility * 8 + severity`; nil when the line carried no `<PRI>` (Meraki lines relayed from a file often don't).
    public var priority: Int?
    /// When the sender says the message happened; nil for RFC 5424's `-`.
    public var timestamp: Date?
    /// HOSTNAME for RFC 5424/3164; the device name for Meraki (Meraki puts its name, not its serial, here).
    public var host: String?
    /// APP-NAME for RFC 5424, the TAG for RFC 3164, the category (`events`, `urls`, `flows`, …) for Meraki.
    public var app: String?
    /// PROCID for RFC 5424, the `[pid]` of an RFC 3164 tag.
    public var processID: String?
    /// MSGID for RFC 5424.
    public var messageID: String?
    /// RFC 5424 STRUCTURED-DATA exactly as sent (`[id k="v"]…`); nil for `-`.
    public var structuredData: String?
    /// The free-text part: MSG, or a Meraki line's payload.
    public var message: String
    /// The sender address a relaying syslog server put in front of a Meraki line (`Mmm d hh:mm:ss <ip> `).
    public var relayHost: String?
    /// The whole line as received, less trailing CR/LF/NUL: what identifies a duplicate.
    public var raw: String

    public init(
        format: Format, priority: Int? = nil, timestamp: Date? = nil, host: String? = nil, app: String? = nil,
        processID: String? = nil, messageID: String? = nil, structuredData: String? = nil, message: String,
        relayHost: String? = nil, raw: String
    ) {
        self.format = format
        self.priority = priority
        self.timestamp = timestamp
        self.host = host
        self.app = app
        self.processID = processID
        self.messageID = messageID
        self.structuredData = structuredData
        self.message = message
        self.relayHost = relayHost
        self.raw = raw
    }

    /// 0 (kernel) … 23 (local7).
    public var facility: Int? { priority.map { $0 >> 3 } }
    /// 0 (emergency) … 7 (debug).
    public var severity: Int? { priority.map { $0 & 7 } }
}

/// Why a line is not a syslog message we understand.
public enum SyslogParseError: Error, Equatable, Sendable {
    /// Nothing but whitespace.
    case empty
    /// Longer than the parser's cap; never decoded.
    case tooLong(bytes: Int, limit: Int)
    /// `<…>` that is not 0…191 written in one to three digits.
    case badPriority
    /// An RFC 5424 TIMESTAMP that is neither `-` nor RFC 3339, or an RFC 3164 date that does not exist.
    case badTimestamp
    /// A recognised header that stops before its required fields.
    case truncated
    /// No header shape matched.
    case unrecognised
}
