import Foundation
import SentryCore
import Testing

@Suite struct DetectReplayTests {
    static let shared = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../../shared").standardized

    func scan(_ line: String) -> SecurityEvent? {
        Array(line.utf8).withUnsafeBufferPointer { AuditLineScanner.event($0) }
    }

    @Test func fastScannerAgreesWithTheFullDecoderOnSlackSamples() throws {
        for name in ["logs_response.python_sdk_fixture.json", "logs_response.all_fields.shape.json"] {
            let data = try Data(contentsOf: Self.shared.appendingPathComponent("specs/slack/samples/audit_logs/\(name)"))
            let entries = try #require(JSONValue.parse(Array(data))?["entries"]?.arrayValue)
            for entry in entries {
                #expect(scan(entry.encoded()) == SlackAuditEntry.event(from: entry), "\(name)")
            }
        }
        let single = try Data(contentsOf: Self.shared.appendingPathComponent("specs/slack/samples/audit_logs/entry.user_login.slack_docs_example.json"))
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
    ]

    @Test(arguments: tricky)
    func fastScannerAgreesOnTrickyEntries(_ line: String) throws {
        let entry = try #require(JSONValue.parse(Array(line.utf8)))
        #expect(scan(line) == SlackAuditEntry.event(from: entry))
    }

    static let malformed = ["", "{", "[]", "{\"id\":\"x\"}", "{\"id\":1,\"date_create\":1,\"action\":\"a\"}", "{\"id\":\"x\",\"date_create\":-5,\"action\":\"a\"}",
                            "{\"id\":\"x\",\"date_create\":1795000000,\"action\":\"a\"", "{\"id\":\"x\" \"date_create\":1}", "not json", "{\"id\":\"x\",\"date_create\":1795000000,\"action\":\"a\"} trailing"]

    @Test(arguments: malformed)
    func malformedLinesGiveNoEvent(_ line: String) {
        #expect(scan(line) == nil)
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
}
