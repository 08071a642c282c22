import Foundation

/// Turns the MX syslog lines the built-in detections care about (uplink failover, cellular up/down) into events.
public enum MerakiSyslogEvents {
    /// An `events` line announcing an uplink change, or nil for every other line.
    ///
    /// - `failover to cellular|wanN` → `uplink_failover`, `interface` = the uplink now active;
    /// - `Cellular connection up|down` → `cellular_up` / `cellular_down`, `interface` = `cellular`.
    ///
    /// The MX line names the device, not its serial: `serial` holds that device name (for example `MX84`),
    /// which the rule engine has to map to a serial through the Dashboard's device list when it needs one.
    /// `id` is the SHA-256 of the raw line, so a line delivered twice is recognisable as one event.
    public static func event(from message: SyslogMessage, receivedAt: Date) -> SecurityEvent? {
        guard message.format == .meraki, message.app == "events" else { return nil }
        let payload = message.message.trimmingCharacters(in: .whitespaces)
        let words = payload.lowercased().split(separator: " ", omittingEmptySubsequences: true)
        let action: String
        let interface: String
        switch words.count {
        case 3 where words[0] == "failover" && words[1] == "to" && isUplink(words[2]):
            action = "uplink_failover"
            interface = String(words[2])
        case 3 where words[0] == "cellular" && words[1] == "connection" && (words[2] == "up" || words[2] == "down"):
            action = words[2] == "up" ? "cellular_up" : "cellular_down"
            interface = "cellular"
        default:
            return nil
        }
        return SecurityEvent(
            source: .syslog, id: Crypto.hex(Crypto.sha256(Array(message.raw.utf8))), at: message.timestamp ?? receivedAt,
            action: action, serial: message.host, interface: interface, detail: payload)
    }

    /// `cellular` or `wan` followed by a number (`wan1`, `wan2`; larger appliances have more).
    private static func isUplink(_ word: Substring) -> Bool {
        if word == "cellular" { return true }
        guard word.hasPrefix("wan") else { return false }
        let number = word.dropFirst(3)
        return !number.isEmpty && number.count <= 2 && number.allSatisfy(\.isASCII) && number.allSatisfy(\.isNumber)
    }
}
