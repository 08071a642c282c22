import Foundation
import SentryCore
import SentryTestSupport
import Testing

/// Issue 11.3: MX lines rewritten by a relay (rsyslog, syslog-ng, a SIEM forwarder) are the same events.
@Suite struct SyslogRelayTests {
    let parser = SyslogParser()
    let now = SyslogFixtures.now

    func event(_ line: String) throws -> SecurityEvent? {
        MerakiSyslogEvents.event(from: try parser.parse(line, receivedAt: now), receivedAt: now)
    }

    /// What the MX's own line gives, for comparison: action, interface, device, payload.
    static let own = "<134>1 1782863990.108107268 MX84 events failover to wan2"

    func story(_ event: SecurityEvent?) -> [String?] {
        [event?.action, event?.interface, event?.serial, event?.deviceName, event?.detail, event?.source.rawValue]
    }

    @Test(arguments: [
        // Strict RFC 5424: ISO timestamp, the device as HOSTNAME, the category as APP-NAME.
        "<134>1 2026-06-30T23:59:50.108Z MX84 events - - - failover to wan2",
        "<134>1 2026-07-01T01:59:50+02:00 MX84 events 4242 - [origin ip=\"192.168.1.1\"] failover to wan2",
        "<134>1 2026-06-30T23:59:50Z MX84 events - - - \u{FEFF}failover to wan2",
        // RFC 3164 with the category as TAG, with or without a pid, and without the colon.
        "<134>Jun 30 23:59:50 MX84 events: failover to wan2",
        "<134>Jun 30 23:59:50 MX84 events[7]: failover to wan2",
        "Jun 30 23:59:50 MX84 events failover to wan2",
        // Either of them carrying the MX line whole as its message.
        "<134>1 2026-06-30T23:59:55Z relay.example.com - - - - 1 1782863990.108107268 MX84 events failover to wan2",
        "<134>Jun 30 23:59:55 relay.example.com 1782863990.108107268 MX84 events failover to wan2",
    ])
    func relayedLinesTellTheSameFailover(line: String) throws {
        let relayed = try #require(try event(line))
        let own = try #require(try event(Self.own))
        #expect(story(relayed) == story(own))
        // The relay's own time where it rewrote the line (RFC 3164 keeps whole seconds only), else the MX's.
        #expect(abs(relayed.at.timeIntervalSince(own.at)) < 1)
        // Its own raw line identifies it.
        #expect(relayed.id == Crypto.hex(Crypto.sha256(Array(line.utf8))))
    }

    @Test func relayedCellularNoticesAndTheWayBackToo() throws {
        #expect(try event("<134>1 2026-06-30T23:59:50Z MX84 events - - - Cellular connection up")?.action == "cellular_up")
        #expect(try event("<134>Jun 30 23:59:50 MX84 events: failover to cellular")?.interface == "cellular")
        #expect(try event("<134>Jun 30 23:59:50 MX84 Events: failover to wan1")?.interface == "wan1")
    }

    @Test(arguments: [
        // Other categories, other programs, and a relay that dropped the hostname.
        "<134>1 2026-06-30T23:59:50Z MX84 urls - - - failover to wan2",
        "<134>1 2026-06-30T23:59:50Z MX84 sshd - - - failover to wan2",
        "<134>1 2026-06-30T23:59:50Z - events - - - failover to wan2",
        "<134>Jun 30 23:59:50 MX84 flows: failover to wan2",
        "<134>Jun 30 23:59:50 MX84 events: dhcp no offers for mac A4:83:E7:XX:XX:XX",
        "<134>Jun 30 23:59:50 MX84 eventsd failover to wan2",
        "<134>1 2026-06-30T23:59:55Z relay - - - - 1782863990.108107268 MX84 urls failover to wan2",
    ])
    func otherRelayedLinesGiveNoEvent(line: String) throws {
        #expect(try event(line) == nil)
    }
}
