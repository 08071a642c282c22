import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

@Suite struct DetectReplayTests {
    func scan(_ line: String) -> SecurityEvent? {
        Array(line.utf8).withUnsafeBufferPointer { AuditLineScanner.event($0) }
    }

    @Test func fastScannerAgreesWithTheFullDecoderOnSlackSamples() throws {
        for name in ["logs_response.python_sdk_fixture.json", "logs_response.all_fields.shape.json"] {
            let data = try Data(contentsOf: CoreFixtures.shared.appendingPathComponent("specs/slack/samples/audit_logs/\(name)"))
            let entries = try #require(JSONValue.parse(Array(data))?["entries"]?.arrayValue)
            for entry in entries {
                #expect(scan(entry.encoded()) == SlackAuditEntry.event(from: entry), "\(name)")
            }
        }
        let single = try Data(
            contentsOf: CoreFixtures.shared.appendingPathComponent("specs/slack/samples/audit_logs/entry.user_login.slack_docs_example.json"))
        let entry = try #require(JSONValue.parse(Array(single)))
        #expect(scan(String(decoding: single, as: UTF8.self)) == SlackAuditEntry.event(from: entry))
    }

    static let tricky: [String] = [
        #"{"id":"e1","date_create":1795000000,"action":"anomaly","actor":{"user":{"id":"W1"}},"context":{"ip_address":"203.0.113.7","session_id":"abc"},"details":{"reason":["tor","unexpected_credential_testing"]}}"#,
        #"{"id":"e2","date_create":"1795000000","action":"file_downloaded","entity":{"file":{"id":"F1","name":"Pay\"roll\u00e9.xlsx"}},"actor":{"user":{"id":"W2"}}}"#,
        #"{ "id" : "e3" , "date_create" : 1795000000.5 , "action" : "user_login_failed" , "context" : { "ip_address" : "2001:DB8::1" } }"#,
        #"{"id":"e4","date_create":1795000000,"action":"x","details":{"reason":{"nested":true}},"entity":{"channel":{"id":"C1"}}}"#,
        #"{"id":"e5","date_create":1795000000,"action":"x","context":{"ip_address":"1.23.45.678"},"actor":{"user":{"id":""}}}"#,
        #"{"id":"e6","date_create":1795000000,"action":"x","details":{"channel_id":"C9"},"extra":[1,2,{"a":[3,"]"]}]}"#,
        // Only the strings of a reason list count, not numbers or what nested lists and objects hold.
        #"{"id":"e7","date_create":1795000000,"action":"anomaly","details":{"reason":["tor",5,{"x":"y"},["z"],"  ",null]}}"#,
        // The first of repeated keys wins, at any depth, as in the decoder.
        #"{"id":"e8","id":"other","date_create":1795000000,"action":"x","actor":{"user":{"id":"W1"},"user":{"id":"W2"}},"actor":{"user":{"id":"W3"}}}"#,
        #"{"id":"e9","date_create":1795000000,"action":"x","actor":{"user":{"name":"x"},"user":{"id":"W2"}}}"#,
        // White space the decoder trims: ASCII around plain text, Unicode (a no-break space) around other text.
        #"{"id":" e10 ","date_create":" 1795000000 ","action":" file_downloaded ","entity":{"file":{"name":" plan.pdf ","title":"t"}}}"#,
        "{\"id\":\"e11\",\"date_create\":1795000000,\"action\":\"x\",\"entity\":{\"file\":{\"name\":\"\u{a0}plan.pdf\u{a0}\"}}}",
        // Text that is not ASCII in skipped fields (a person's name) leaves the rest to the fast path.
        #"{"id":"e12","date_create":1795000000,"action":"user_login","actor":{"user":{"id":"W4","name":"José Núñez"}},"context":{"ip_address":"203.0.113.9"}}"#,
        // Wanted fields of the wrong type, an empty file name falling back to the title, an address to canonicalise.
        #"{"id":"e13","date_create":1795000000,"action":"x","actor":{"user":{"id":7}},"entity":{"file":{"id":["F1"],"name":"","title":"T"}},"context":{"ip_address":"2001:DB8:0:0::1"}}"#,
        #"{"id":"e14","date_create":1795000000,"action":"x","context":{"ip_address":"010.1.1.1"},"details":{"reason":"  "}}"#,
        #"{"id":"e15","date_create":-0,"action":"x"}"#,
        #"{"id":"e16","date_create":1e9,"action":"x","details":{"channel":"C1","channel_id":"C2"}}"#,
    ]

    @Test(arguments: tricky)
    func fastScannerAgreesOnTrickyEntries(_ line: String) throws {
        let entry = try #require(JSONValue.parse(Array(line.utf8)))
        #expect(scan(line) == SlackAuditEntry.event(from: entry))
    }

    /// Random entries built from the keys the scanner looks for, values of every type (strings with escapes, white
    /// space and text that is not ASCII among them), repeated keys and random spacing: the scanner gives the decoder's
    /// event, or nil exactly when the decoder does.
    @Test func fastScannerAgreesOnRandomEntries() throws {
        var rng = SystemRandomNumberGenerator()
        let keys = [
            "id", "date_create", "action", "actor", "user", "context", "ip_address", "agent_message", "channel_id", "entity",
            "file", "name", "title", "channel", "message", "details", "reason", "type", "x",
        ]
        let strings = [
            #""""#, #"" ""#, #""W1""#, #""file_downloaded""#, #"" user_login_failed ""#, #""1795000000""#, #"" 1795000001 ""#,
            #""203.0.113.7""#, #""2001:DB8::1""#, #""1.23.45.678""#, #""José""#, #""\u00e9t\u00e9""#, #""a\tb""#, #""q\"x""#,
            #""\u00a0pad\u00a0""#, #""tor""#, #""unexpected_credential_testing""#, #""a/b\/c""#,
        ]
        let scalars = ["1795000000", "-1", "0", "1.5e9", "1e12", "1795000000.75", "true", "false", "null"]
        func space() -> String { ["", "", "", " ", "\n "].randomElement(using: &rng)! }
        func value(_ depth: Int) -> String {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<4: return strings.randomElement(using: &rng)!
            case 4..<6: return scalars.randomElement(using: &rng)!
            case 6..<8 where depth < 4: return object(depth + 1)
            case 8 where depth < 4:
                return "[" + (0..<Int.random(in: 0...3, using: &rng)).map { _ in space() + value(depth + 1) }.joined(separator: ",") + "]"
            default: return strings.randomElement(using: &rng)!
            }
        }
        func object(_ depth: Int) -> String {
            let members = (0..<Int.random(in: 0...5, using: &rng)).map { _ in
                space() + "\"" + keys.randomElement(using: &rng)! + "\"" + space() + ":" + space() + value(depth)
            }
            return "{" + members.joined(separator: ",") + space() + "}"
        }
        var events = 0
        for _ in 0..<3_000 {
            // Mostly the fields an entry needs, so that many lines are events.
            let head = [#""id":"e""#, #""date_create":1795000000"#, #""action":"anomaly""#].filter { _ in Int.random(in: 0..<8, using: &rng) > 0 }
            let body = object(1).dropFirst().dropLast()
            let line = "{" + (head + (body.isEmpty ? [] : [String(body)])).joined(separator: ",") + "}"
            let entry = try #require(JSONValue.parse(Array(line.utf8)), "\(line)")
            let expected = SlackAuditEntry.event(from: entry)
            #expect(scan(line) == expected, "\(line)")
            if expected != nil { events += 1 }
        }
        #expect(events > 300)
    }

    static let malformed = [
        "", "{", "[]", "{\"id\":\"x\"}", "{\"id\":1,\"date_create\":1,\"action\":\"a\"}", "{\"id\":\"x\",\"date_create\":-5,\"action\":\"a\"}",
        "{\"id\":\"x\",\"date_create\":1795000000,\"action\":\"a\"", "{\"id\":\"x\" \"date_create\":1}", "not json",
        "{\"id\":\"x\",\"date_create\":1795000000,\"action\":\"a\"} trailing",
    ]

    @Test(arguments: malformed)
    func malformedLinesGiveNoEvent(_ line: String) {
        #expect(scan(line) == nil)
    }

    @Test(arguments: ["id", "action", "ip_address", "name", "reason"])
    func aWantedStringThatIsNotUTF8MakesTheLineNoEntry(_ key: String) {
        let head = Array(#"{"id":"e1","date_create":1795000000,"action":"anomaly","context":{"ip_address":"203.0.113.7"},"#.utf8)
        var line = head + Array(#""entity":{"file":{"name":"n"}},"details":{"reason":["tor"]}}"#.utf8)
        // The value of `key` gets a byte that no UTF-8 text holds.
        let quoted = Array("\"\(key)\":".utf8)
        let at = (0...(line.count - quoted.count)).first { Array(line[$0..<($0 + quoted.count)]) == quoted }! + quoted.count
        let value = line[at] == UInt8(ascii: "[") ? at + 2 : at + 1
        line.insert(0xFF, at: value)
        #expect(JSONValue.parse(line) == nil)
        #expect(line.withUnsafeBufferPointer { AuditLineScanner.event($0) } == nil)
    }

    @Test func lineReaderHandlesChunkBoundariesAndAFinalLineWithoutNewline() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("lines-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = (0..<1_000).map { "line \($0) " + String(repeating: "x", count: $0 % 37) }
        try (lines.joined(separator: "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        let handle = try #require(FileHandle(forReadingAtPath: path))
        defer { try? handle.close() }
        var read: [String] = []
        try LineReader(handle: handle, chunkSize: 7).forEachLine { read.append(String(decoding: $0, as: UTF8.self)) }
        #expect(read == lines)
    }

    @Test func recentIDsForgetOnlyBeyondTheirCapacity() {
        var ids = RecentIDs(capacity: 3)
        #expect(ids.insert("a") && ids.insert("b") && !ids.insert("a"))
        #expect(ids.insert("c") && ids.insert("d") && !ids.insert("c"))
    }

    @Test func recentIDsInBatchesAnswerAsOneByOne() {
        var rng = SystemRandomNumberGenerator()
        let ids = (0..<5_000).map { _ in "id-\(Int.random(in: 0..<1_500, using: &rng))" }
        var single = RecentIDs(capacity: 500)
        var batched = RecentIDs(capacity: 500)
        let one = ids.map { single.insert($0) }
        var many: [Bool] = []
        var start = 0
        while start < ids.count {
            let end = min(ids.count, start + Int.random(in: 1...700, using: &rng))
            many += batched.insert(Array(ids[start..<end]))
            start = end
        }
        #expect(one == many)
        #expect(one.contains(false) && one.contains(true))
    }

    @Test func canonicalIPv4TextIsWhatTheAddressWrites() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["0", "1", "9", "10", "01", "99", "100", "255", "256", "300", "1000", "", "-1", " 1", "a"]
        var texts = ["1.2.3.4", "0.0.0.0", "255.255.255.255", "1.2.3", "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2.3.4.5", "::1", "", "1.2.3.04"]
        for _ in 0..<2_000 {
            let count = Int.random(in: 3...5, using: &rng)
            texts.append((0..<count).map { _ in pieces.randomElement(using: &rng)! }.joined(separator: "."))
        }
        for text in texts {
            let fast = Array(text.utf8).withUnsafeBufferPointer { IPAddress.isCanonicalIPv4($0) }
            let slow = IPAddress(text).map { $0.family == .v4 && $0.description == text } ?? false
            #expect(fast == slow, "\(text)")
        }
    }

    @Test func securityEventsCodeEveryFieldUnderItsNameAndCompareByValue() throws {
        let full = SecurityEvent(
            source: .merakiUplinks, id: "Q2XX-1/wan1/1", at: Date(timeIntervalSince1970: 1_700_000_000), action: "uplink_failover",
            userID: "W1", ip: "192.0.2.1", fileID: "F1", fileName: "a.txt", channelID: "C1", reason: "r", networkID: "N_1",
            serial: "Q2XX-1", interface: "cellular", previousPublicIP: "198.51.100.1", publicIP: "198.51.100.2", detail: "moved",
            deviceName: "mx-1")
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let object = try #require(JSONSerialization.jsonObject(with: try encoder.encode(full)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "source", "id", "at", "action", "userID", "ip", "fileID", "fileName", "channelID", "reason", "networkID", "serial",
                "interface", "previousPublicIP", "publicIP", "detail", "deviceName",
            ])
        #expect(try JSONDecoder().decode(SecurityEvent.self, from: try encoder.encode(full)) == full)
        let audit = SecurityEvent(source: .slackAudit, id: "E1", at: Date(timeIntervalSince1970: 1), action: "user_login", userID: "W1")
        let auditObject = try #require(JSONSerialization.jsonObject(with: try encoder.encode(audit)) as? [String: Any])
        #expect(Set(auditObject.keys) == ["source", "id", "at", "action", "userID"])
        // The appliance's fields, set and cleared one by one, compare as the values they hold.
        var changed = audit
        changed.serial = "Q2XX-1"
        #expect(changed != audit && changed.serial == "Q2XX-1" && changed.deviceName == nil)
        let copy = changed
        changed.deviceName = "mx-1"
        #expect(copy.deviceName == nil && changed.deviceName == "mx-1" && changed.serial == "Q2XX-1")
        changed.serial = nil
        changed.deviceName = nil
        #expect(changed == audit)
    }

    @Test func fingerprintsTellApartIdsThatDifferAnywhere() {
        var prints = Set<UInt64>()
        let base = Array("00000000-5d9dc9f8-4bd1-8c2a-0ed99531985d".utf8)
        for length in 0...base.count {
            for position in 0..<max(1, length) {
                var bytes = Array(base[..<length])
                if position < length { bytes[position] ^= 0x01 }
                prints.insert(RecentIDs.fingerprint(String(decoding: bytes, as: UTF8.self)))
                prints.insert(RecentIDs.fingerprint(String(decoding: Array(base[..<length]) + [0], as: UTF8.self)))
            }
        }
        // Every prefix, each with one byte changed, and each followed by a zero byte: all different.
        let expected = (0...base.count).reduce(0) { $0 + max(1, $1) } + (0...base.count).count
        #expect(prints.count == expected)
        #expect(RecentIDs.fingerprint("abc") == RecentIDs.fingerprint(String("xabc".dropFirst())))
    }

    @Test func eventIDsCompareAndOrderAsTheirText() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["a", "b", "0", "-", " ", "~", "\u{01}", "é", "e\u{301}", "\u{212A}", "K", "\u{0}", "zz"]
        var texts = [
            "", "K", "\u{212A}", String(repeating: "x", count: 40), String(repeating: "x", count: 41), "00000000-5d9dc9f8-4bd1-8c2a-0ed99531985d",
        ]
        for _ in 0..<400 {
            let count = Int.random(in: 0...45, using: &rng)
            texts.append((0..<count).map { _ in pieces.randomElement(using: &rng)! }.joined())
        }
        for left in texts {
            let leftID = EventID(left)
            #expect(leftID.text == left)
            for right in texts.prefix(80) {
                let rightID = EventID(right)
                #expect((leftID == rightID) == (left == right), "\(left) \(right)")
                #expect((leftID < rightID) == (left < right), "\(left) \(right)")
            }
        }
        // Kept in place: the same fingerprint as the text's.
        let id = "00000000-5d9dc9f8-4bd1-8c2a-0ed99531985d"
        #expect(EventID(id).withUTF8(RecentIDs.fingerprint) == RecentIDs.fingerprint(id))
    }
}
