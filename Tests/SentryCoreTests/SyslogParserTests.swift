import Foundation
import SentryCore
import SentryTestSupport
import Testing

@Suite struct SyslogParserTests {
    let parser = SyslogParser()
    let now = SyslogFixtures.now

    // MARK: Meraki samples

    @Test func everyMXSampleLineParsesAsMeraki() throws {
        let lines = try SyslogFixtures.mxLines()
        #expect(lines.count == 12)
        for line in lines {
            let message = try parser.parse(line, receivedAt: now)
            #expect(message.format == .meraki, "\(line)")
            #expect(message.host?.isEmpty == false, "\(line)")
            #expect(message.timestamp != nil, "\(line)")
            #expect(message.raw == line)
        }
    }

    @Test func mxSampleLinesGiveEventsOnlyForUplinkChanges() throws {
        let events = try SyslogFixtures.mxLines().compactMap { line in
            MerakiSyslogEvents.event(from: try parser.parse(line, receivedAt: now), receivedAt: now)
        }
        #expect(events.map(\.action) == ["cellular_up", "uplink_failover", "uplink_failover", "cellular_down"])
        #expect(events.map(\.interface) == ["cellular", "cellular", "wan1", "cellular"])
        #expect(events.map(\.detail) == ["Cellular connection up", "failover to cellular", "failover to wan1", "Cellular connection down"])
        #expect(events.allSatisfy { $0.source == .syslog && $0.serial == "MX84" })
        #expect(Set(events.map(\.id)).count == 4)
        #expect(events.allSatisfy { $0.id.count == 64 })
        // `at` is the appliance's epoch, not the relay's date nor the receive time.
        #expect(abs(events[1].at.timeIntervalSince1970 - 1_386_337_435.108107268) < 0.000_01)
    }

    @Test func relayedLineKeepsTheRelayAddressApart() throws {
        let line = "Dec 6 08:43:43 192.168.1.1 1 1386337435.108107268 MX84 events failover to cellular"
        let message = try parser.parse(line, receivedAt: now)
        #expect(
            message
                == SyslogMessage(
                    format: .meraki, priority: nil, timestamp: Date(timeIntervalSince1970: 1_386_337_435.108107268), host: "MX84", app: "events",
                    message: "failover to cellular", relayHost: "192.168.1.1", raw: line))
    }

    @Test func merakiLineWithPriorityAndWithoutVersion() throws {
        let ids = try parser.parse(
            "<134>1 1563249630.774247467 remote_DC1_appliance security_event ids_alerted signature=1:41944:2 priority=1", receivedAt: now)
        #expect(ids.priority == 134)
        #expect(ids.facility == 16)
        #expect(ids.severity == 6)
        #expect(ids.host == "remote_DC1_appliance")
        #expect(ids.app == "security_event")
        #expect(ids.message == "ids_alerted signature=1:41944:2 priority=1")
        let bare = try parser.parse("948077334.886213117 MX60 flows src=39.41.X.X dst=114.18.X.X protocol=udp pattern: 1 all", receivedAt: now)
        #expect(bare.format == .meraki)
        #expect(bare.priority == nil)
        #expect(bare.app == "flows")
    }

    @Test func duplicateLineHasTheSameID() throws {
        let line = SyslogFixtures.failoverLine(1)
        let first = try #require(MerakiSyslogEvents.event(from: try parser.parse(line, receivedAt: now), receivedAt: now))
        let again = try #require(
            MerakiSyslogEvents.event(from: try parser.parse(line + "\r\n", receivedAt: now.addingTimeInterval(5)), receivedAt: now))
        let other = try #require(MerakiSyslogEvents.event(from: try parser.parse(SyslogFixtures.failoverLine(2), receivedAt: now), receivedAt: now))
        #expect(first == again)
        #expect(first.id == Crypto.hex(Crypto.sha256(Array(line.utf8))))
        #expect(first.id != other.id)
    }

    @Test(arguments: [
        "failover to wan3 now", "failover to", "failover to lte", "Cellular connection flapping", "type=vpn_connectivity_change",
        "dhcp no offers for mac A4:83:E7:XX:XX:XX host = 192.168.10.1",
    ])
    func otherEventsPayloadsGiveNoEvent(payload: String) throws {
        let message = try parser.parse("1 1386337435.108107268 MX84 events \(payload)", receivedAt: now)
        #expect(MerakiSyslogEvents.event(from: message, receivedAt: now) == nil)
    }

    @Test func uplinkWordsOutsideMerakiEventsGiveNoEvent() throws {
        // An RFC 3164 `events:` tag is a relayed MX line (SyslogRelayTests); another tag is not.
        let bsd = try parser.parse("<13>Dec  6 08:43:43 mx urls: failover to wan1", receivedAt: now)
        #expect(bsd.format == .rfc3164)
        #expect(MerakiSyslogEvents.event(from: bsd, receivedAt: now) == nil)
        let urls = try parser.parse("1 1386337435.108107268 MX84 urls failover to wan1", receivedAt: now)
        #expect(MerakiSyslogEvents.event(from: urls, receivedAt: now) == nil)
    }

    // MARK: RFC 5424 (examples from RFC 5424 §6.5)

    @Test func rfc5424WithoutStructuredData() throws {
        let line = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{FEFF}'su root' failed for lonvick on /dev/pts/8"
        let message = try parser.parse(line, receivedAt: now)
        #expect(message.format == .rfc5424)
        #expect(message.priority == 34)
        #expect(message.facility == 4)
        #expect(message.severity == 2)
        #expect(message.timestamp == Date(timeIntervalSince1970: 1_065_910_455.003))
        #expect(message.host == "mymachine.example.com")
        #expect(message.app == "su")
        #expect(message.processID == nil)
        #expect(message.messageID == "ID47")
        #expect(message.structuredData == nil)
        #expect(message.message == "'su root' failed for lonvick on /dev/pts/8")
    }

    @Test func rfc5424WithOffsetAndMicroseconds() throws {
        let message = try parser.parse(
            "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.", receivedAt: now)
        let expected = 1_061_727_255.000003  // 2003-08-24T12:14:15.000003Z
        #expect(abs((message.timestamp?.timeIntervalSince1970 ?? 0) - expected) < 0.000_001)
        #expect(message.processID == "8710")
        #expect(message.messageID == nil)
        #expect(message.message == "%% It's time to make the do-nuts.")
    }

    @Test func rfc5424StructuredData() throws {
        let one = try parser.parse(
            #"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry..."#,
            receivedAt: now)
        #expect(one.structuredData == #"[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]"#)
        #expect(one.message == "An application event log entry...")
        let two = try parser.parse(
            #"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"][examplePriority@32473 class="high"]"#,
            receivedAt: now)
        #expect(two.structuredData == #"[exampleSDID@32473 iut="3"][examplePriority@32473 class="high"]"#)
        #expect(two.message == "")
        let escaped = try parser.parse(#"<14>1 - host app - - [x@1 v="a\]b\"c"] tail"#, receivedAt: now)
        #expect(escaped.timestamp == nil)
        #expect(escaped.structuredData == #"[x@1 v="a\]b\"c"]"#)
        #expect(escaped.message == "tail")
    }

    // MARK: RFC 3164

    @Test func rfc3164FromTheRFC() throws {
        let received = Date(timeIntervalSince1970: 1_065_960_000)  // 2003-10-12T12:00:00Z
        let message = try parser.parse("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", receivedAt: received)
        #expect(message.format == .rfc3164)
        #expect(message.priority == 34)
        #expect(message.timestamp == Date(timeIntervalSince1970: 1_065_910_455))
        #expect(message.host == "mymachine")
        #expect(message.app == "su")
        #expect(message.message == "'su root' failed for lonvick on /dev/pts/8")
    }

    @Test func rfc3164WithPaddedDayAndPID() throws {
        let message = try parser.parse("<13>Feb  5 17:32:18 10.0.0.99 sshd[4123]: Accepted publickey for root", receivedAt: now)
        #expect(message.host == "10.0.0.99")
        #expect(message.app == "sshd")
        #expect(message.processID == "4123")
        #expect(message.message == "Accepted publickey for root")
        #expect(message.timestamp == Date(timeIntervalSince1970: 1_770_312_738))  // 2026-02-05T17:32:18Z
    }

    @Test func rfc3164DecemberLineReadInJanuaryIsLastYear() throws {
        let newYear = Date(timeIntervalSince1970: 1_767_225_610)  // 2026-01-01T00:00:10Z
        let message = try parser.parse("<13>Dec 31 23:59:59 host app: late", receivedAt: newYear)
        #expect(message.timestamp == Date(timeIntervalSince1970: 1_767_225_599))
    }

    @Test func rfc3164WithoutTagKeepsEverythingAsMessage() throws {
        let message = try parser.parse("<13>Oct 11 22:14:15 host just some words", receivedAt: now)
        #expect(message.app == nil)
        #expect(message.message == "just some words")
    }

    // MARK: Malformed

    @Test(arguments: [
        ("", SyslogParseError.empty), (" \r\n", .empty), ("hello world", .unrecognised), ("<>1 - - - - - -", .badPriority),
        ("<999>1 - - - - - -", .badPriority), ("<abc>Oct 11 22:14:15 host a: b", .badPriority), ("<013>1 - h a - - -", .badPriority),
        ("<34", .badPriority), ("<34>", .unrecognised), ("<34>1 2003-10-11T22:14:15.003Z host", .truncated),
        ("<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47", .truncated), ("<34>1 yesterday host app - - -", .badTimestamp),
        ("<34>1 2003-13-11T22:14:15Z host app - - -", .badTimestamp), ("<34>1 - host app - - [unterminated x=\"1\"", .truncated),
        ("<34>1 - host app - - nosd", .unrecognised), ("1386337435.108107268 MX84", .truncated),
        ("<134>1 1386337435.108107268 MX84", .truncated), ("Dec 6 08:41", .truncated), ("Feb 30 10:00:00 host a: b", .badTimestamp),
        ("Dec 6 08:41:44", .truncated), ("\u{0}\u{1}\u{2}garbage", .unrecognised),
    ])
    func malformedLinesAreTypedErrors(line: String, error: SyslogParseError) {
        #expect(throws: error) { try parser.parse(line, receivedAt: now) }
        #expect(parser.message(from: line, receivedAt: now) == nil)
    }

    @Test func hugeLineIsRefusedBeforeDecoding() {
        let huge = "<134>1 1386337435.108107268 MX84 events " + String(repeating: "x", count: 9_000)
        #expect(throws: SyslogParseError.tooLong(bytes: huge.utf8.count, limit: 8_192)) { try parser.parse(huge, receivedAt: now) }
        let small = SyslogParser(maxLength: 100)
        #expect(throws: SyslogParseError.tooLong(bytes: 101, limit: 100)) { try small.parse([UInt8](repeating: 65, count: 101), receivedAt: now) }
    }

    @Test func randomBytesNeverCrash() {
        var generator = SplitMix64(seed: 42)
        let alphabet = Array("<>0123456789 .:-[]\"\\abcDecTZ\n\r".utf8) + [0, 0xFF, 0xEF, 0xBB, 0xBF]
        var parsed = 0
        for _ in 0..<5_000 {
            let count = Int(generator.next() % 80)
            let bytes = (0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            if (try? parser.parse(bytes, receivedAt: now)) != nil { parsed += 1 }
        }
        #expect(parsed < 5_000)
    }
}
