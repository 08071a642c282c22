import Foundation

/// Turns the MX syslog lines the built-in detections care about (uplink failover, cellular up/down) into events.
public enum MerakiSyslogEvents {
    /// An `events` line announcing an uplink change, or nil for every other line.
    ///
    /// - `failover to cellular|wanN` → `uplink_failover`, `interface` = the uplink now active;
    /// - `Cellular connection up|down` → `cellular_up` / `cellular_down`, `interface` = `cellular`.
    ///
    /// The line may come as the MX sends it or rewritten by a relay: RFC 5424 with the device as HOSTNAME and the
    /// category as APP-NAME (`<134>1 2026-11-22T09:00:00Z MX84 events - - - failover to wan2`), RFC 3164 with the
    /// category as TAG (`<134>Nov 22 09:00:00 MX84 events: failover to wan2`, the colon optional), or either of
    /// them carrying the MX line whole as its message.
    ///
    /// The MX line names the device, not its serial: `serial` and `deviceName` hold that device name (for example
    /// `MX84`) until `DeviceNameMappingSink` maps it to the serial and network through the Dashboard's device list.
    /// `id` is the SHA-256 of the raw line, so a line delivered twice is recognisable as one event.
    public static func event(from message: SyslogMessage, receivedAt: Date) -> SecurityEvent? {
        guard let line = eventsLine(message) else { return nil }
        let payload = line.payload.trimmingCharacters(in: .whitespaces)
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
            source: .syslog, id: Crypto.hex(Crypto.sha256(Array(message.raw.utf8))), at: line.at ?? receivedAt,
            action: action, serial: line.device, interface: interface, detail: payload, deviceName: line.device)
    }

    /// The device, time and payload of an MX `events` line in any of the shapes above.
    private static func eventsLine(_ message: SyslogMessage) -> (device: String, at: Date?, payload: String)? {
        func isEvents(_ app: String?) -> Bool { app?.lowercased() == "events" }
        switch message.format {
        case .meraki:
            guard isEvents(message.app), let device = message.host, !device.isEmpty else { return nil }
            return (device, message.timestamp, message.message)
        case .rfc5424, .rfc3164:
            // A relay that kept the MX line as its message: the inner line knows the device and the time best.
            if let inner = wrapped(message.message) { return eventsLine(inner) }
            guard let device = message.host, !device.isEmpty else { return nil }
            if isEvents(message.app) { return (device, message.timestamp, message.message) }
            // `Mmm dd hh:mm:ss MX84 events failover to wan2`: the category without the tag's colon.
            if message.format == .rfc3164, message.app == nil {
                let words = message.message.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
                if words.count == 2, isEvents(String(words[0])) { return (device, message.timestamp, String(words[1])) }
            }
            return nil
        }
    }

    /// A message that is itself an MX line (`[1 ]<epoch>.<nanos> <device> <category> …`), parsed.
    private static func wrapped(_ text: String) -> SyslogMessage? {
        let trimmed = text.drop { $0 == " " }
        guard let first = trimmed.first, first.isASCII, first.isNumber else { return nil }
        guard let inner = try? SyslogParser().parse(String(trimmed), receivedAt: Date(timeIntervalSince1970: 0)), inner.format == .meraki
        else { return nil }
        return inner
    }

    /// `cellular` or `wan` followed by a number (`wan1`, `wan2`; larger appliances have more).
    private static func isUplink(_ word: Substring) -> Bool {
        if word == "cellular" { return true }
        guard word.hasPrefix("wan") else { return false }
        let number = word.dropFirst(3)
        return !number.isEmpty && number.count <= 2 && number.allSatisfy(\.isASCII) && number.allSatisfy(\.isNumber)
    }
}
