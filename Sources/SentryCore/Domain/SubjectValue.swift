import Foundation

/// Checks and canonical forms of subject fields, shared by the detection webhook and the engine adapters.
///
/// Canonical means stable: the same host or address written twice the same way gives the same grouping key.
public enum SubjectValue {
    public static let maxHostLength = 253
    public static let maxEmailLength = 254
    public static let maxAccountLength = 128
    public static let maxRuleLength = 100

    /// An IPv4 or IPv6 literal in canonical form; nil for anything else.
    public static func ip(_ text: String) -> String? {
        IPAddress(text.trimmedOfWhitespace).map(\.description)
    }

    /// Letters, digits, `.`, `-` and `_`, lower-cased (DNS names compare without case); nil for anything else.
    public static func host(_ text: String) -> String? {
        let trimmed = text.trimmedOfWhitespace
        var host = Substring(trimmed)
        if host.hasSuffix(".") { host = host.dropLast() }
        // No empty labels, so that a canonical name read again is the same name.
        guard !host.isEmpty, host.utf8.count <= maxHostLength, host.first != ".", host.first != "-", host.last != ".",
            !host.contains(".."),
            host.utf8.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
        else { return nil }
        return host.lowercased()
    }

    /// `local@domain.tld` (an email address or a user principal name), lower-cased; nil for anything else.
    public static func email(_ text: String) -> String? {
        let trimmed = text.trimmedOfWhitespace
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard trimmed.utf8.count <= maxEmailLength, parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64,
            parts[0].utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !"<>()[],;:\\\"".utf8.contains($0) }),
            let domain = host(String(parts[1])), domain.contains(".")
        else { return nil }
        return parts[0].lowercased() + "@" + domain
    }

    /// A user name of an engine's directory: trimmed, printable, at most 128 scalars; nil when empty or not that.
    public static func account(_ text: String) -> String? {
        let trimmed = text.trimmedOfWhitespace
        guard !trimmed.isEmpty, trimmed.unicodeScalars.count <= maxAccountLength,
            !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { return nil }
        return trimmed
    }

    /// A detection id (`panther.okta.brute_force_logins`); nil for anything else.
    public static func rule(_ text: String) -> String? {
        guard !text.isEmpty, text.utf8.count <= maxRuleLength, text.utf8.allSatisfy(DetectionPattern.isIDByte) else { return nil }
        return text
    }

    /// An endpoint as monitoring tools write it (`203.0.113.7:9100`, `[2001:db8::1]:9100`, `node-1:9100`,
    /// `https://web.example.com/health`): the port, scheme and path removed; an address in `ip`, a name in `host`.
    public static func endpoint(_ text: String) -> (ip: String?, host: String?) {
        var rest = Substring(text.trimmedOfWhitespace)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<slash] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            let inside = String(rest[rest.index(after: rest.startIndex)..<close])
            return (ip(inside), nil)
        }
        if let address = ip(String(rest)) { return (address, nil) }
        let colons = rest.filter { $0 == ":" }.count
        if colons == 1, let colon = rest.firstIndex(of: ":") {
            let port = rest[rest.index(after: colon)...]
            guard port.allSatisfy(\.isASCIIDigit) else { return (nil, nil) }
            rest = rest[..<colon]
        }
        if let address = ip(String(rest)) { return (address, nil) }
        return (nil, host(String(rest)))
    }

    /// A user as engines name one: an email address or UPN goes to `email`, anything else to `account`.
    public static func user(_ text: String) -> (email: String?, account: String?) {
        if let email = email(text) { return (email, nil) }
        return (nil, account(text))
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension SubjectValue {
    /// The subject fields a playbook's `subject_from:` may set: all but `rule`, which is the fallback.
    public static let overridableFields = Subject.fieldNames.filter { $0 != "rule" }

    /// `text` as the value of subject field `field`; nil when it is not a valid one.
    public static func normalised(field: String, _ text: String) -> String? {
        switch field {
        case "ip": return endpoint(text).ip
        case "host":
            // An IPv4 address is a valid host name; an IPv6 one is not.
            let (ip, name) = endpoint(text)
            return name ?? ip.flatMap(host)
        case "email": return email(text)
        case "account": return account(text)
        case "slack_user_id":
            let trimmed = text.trimmedOfWhitespace
            return SlackID.isUser(trimmed) ? trimmed : nil
        case "meraki_network_id", "meraki_serial":
            return account(text).flatMap { $0.unicodeScalars.count <= 64 ? $0 : nil }
        case "rule": return rule(text)
        default: return nil
        }
    }
}
