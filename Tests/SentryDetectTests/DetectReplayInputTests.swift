import Foundation
import SentryCore
import SentryDetect
import SentryTestSupport
import Testing

/// What `sentry detect replay` reads: JSON documents as saved, gzip, files that cannot be replayed, and the words it
/// says about them.
@Suite struct DetectReplayInputTests {

    /// Every record the framer cuts from `text` fed in pieces of `piece` bytes, "|" for a document's end, "!" for junk.
    func frame(_ text: String, piece: Int) -> [String] {
        var framer = JSONRecordFramer(maxRecordBytes: 200)
        var out: [String] = []
        let bytes = Array(text.utf8)
        func handle(_ event: JSONRecordFramer.Event) {
            switch event {
            case .record(let record): out.append(String(decoding: record, as: UTF8.self))
            case .documentEnded: out.append("|")
            case .junk: out.append("!")
            }
        }
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + piece)
            bytes[start..<end].withUnsafeBufferPointer { framer.feed($0, handle) }
            start = end
        }
        framer.finish(handle)
        return out
    }

    @Test(arguments: [1, 3, 7, 1_000])
    func framerCutsPagesArraysAndLoneObjectsWhereverTheInputIsCut(_ piece: Int) {
        let page =
            #"{"ok": true, "warning": "[", "entries": [ {"id": "a", "x": [1, {"y": "}"}]}, {"id":"b\"]"} ], "response_metadata": {"next_cursor": ""}}"#
        #expect(frame(page, piece: piece) == [#"{"id": "a", "x": [1, {"y": "}"}]}"#, #"{"id":"b\"]"}"#, "|"])
        #expect(
            frame("[\n  {\"serial\": \"Q\"},\n  {\"serial\": \"R\"}\n]\n[ ]", piece: piece) == [#"{"serial": "Q"}"#, #"{"serial": "R"}"#, "|", "|"])
        #expect(
            frame("{\n \"id\": \"e1\",\n \"entries\": 3\n}\n{\"id\":\"e2\"}", piece: piece) == [
                "{\n \"id\": \"e1\",\n \"entries\": 3\n}", "|", #"{"id":"e2"}"#, "|",
            ])
        #expect(frame("[1, \"two\", null]", piece: piece) == ["1", "\"two\"", "null", "|"])
    }

    @Test func framerReportsStrayTextTruncationAndOversizedRecords() {
        #expect(frame("garbage\n[{\"a\":1}]\n] more", piece: 4) == ["!", #"{"a":1}"#, "|", "!"])
        #expect(frame("{\"entries\": [{\"a\": 1}, {\"b\"", piece: 5) == [#"{"a": 1}"#, "!"])
        let big = "[{\"a\": \"" + String(repeating: "x", count: 300) + "\"}, {\"b\": 2}]"
        #expect(frame(big, piece: 64) == ["!", #"{"b": 2}"#, "|"])
    }

    @Test func layoutIsToldByTheFirstLine() {
        func layout(_ text: String) -> ReplayLayout { Array(text.utf8).withUnsafeBufferPointer { ReplayLayout.sniff($0) } }
        #expect(layout("{\"id\":\"x\"}\n{\"id\":\"y\"}\n") == .lines)
        #expect(layout("\n  [{\"serial\":\"Q\"}]\n") == .lines)
        #expect(layout("Dec 6 08:41:44 192.168.1.1 1 1386337316.2 MX84 events x\n") == .lines)
        #expect(layout("{\n  \"entries\": [\n") == .documents)
        #expect(layout("[\n") == .documents)
        #expect(layout("{\"entries\":[{\"id\":\"x\"") == .documents)
    }

    /// The records of a file as one source, through the replayer without an engine.
    func counts(_ bytes: [UInt8], source: SecurityEvent.Source?, piece: Int = 1 << 20) -> ReplayCounts {
        let layout = bytes.withUnsafeBufferPointer { ReplayLayout.sniff($0) }
        var replayer = Replayer(engine: nil, source: source, layout: layout) { _ in }
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + piece)
            bytes[start..<end].withUnsafeBufferPointer { replayer.feed($0) }
            start = end
        }
        replayer.finish()
        return replayer.counts
    }

    func sample(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: ReplayFixtures.samples.appendingPathComponent(path))) }

    @Test func savedAPIResponsesReadAsTheirSource() throws {
        let page = try sample("slack/samples/audit_logs/logs_response.python_sdk_fixture.json")
        for piece in [13, 1 << 20] {
            let audit = counts(page, source: .slackAudit, piece: piece)
            #expect(audit.records == 2 && audit.malformed == 0 && audit.events == 2)
        }
        #expect(ReplayReport.detectedSource(counts(page, source: nil)) == .slackAudit)
        let single = counts(try sample("slack/samples/audit_logs/entry.user_login.slack_docs_example.json"), source: .slackAudit)
        #expect(single.records == 1 && single.events == 1)

        let meraki = try sample("meraki/samples/getOrganizationApplianceUplinkStatuses.response.json")
        #expect(ReplayReport.detectedSource(counts(meraki, source: nil)) == .merakiUplinks)
        let uplinks = counts(meraki, source: .merakiUplinks)
        #expect(uplinks.records == 1 && uplinks.malformed == 0)
        // A page saved on one line, as curl leaves it, among JSON lines.
        let compact = String(decoding: try JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: Data(page))), as: UTF8.self)
        let mixed = counts(
            Array((compact + "\n" + #"{"id":"z","date_create":1795000000,"action":"user_login"}"# + "\n{\"entries\":[]}\n").utf8), source: .slackAudit
        )
        #expect(mixed.records == 4 && mixed.events == 3 && mixed.malformed == 0 && mixed.ignored == 1)
    }

    @Test func mismatchSaysWhatTheLinesLookLike() throws {
        let status = try sample("meraki/samples/getOrganizationApplianceUplinkStatuses.response.json")
        let line = String(decoding: try JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: Data(status))), as: UTF8.self)
        let file = Array(Array(repeating: line, count: 5_000).joined(separator: "\n").utf8)
        let wrong = counts(file, source: .slackAudit)
        #expect(
            ReplayReport.mismatch(wrong, source: .slackAudit, layout: .lines)
                == "0 of 5,000 lines are Slack audit entries — they look like Meraki uplink statuses; try --source meraki-uplinks")
        #expect(ReplayReport.mismatch(counts(file, source: .merakiUplinks), source: .merakiUplinks, layout: .lines) == nil)
        let noise = counts(Array("hello\nworld\n{\"id\":1}\n".utf8), source: .syslog)
        #expect(
            ReplayReport.mismatch(noise, source: .syslog, layout: .lines)
                == "0 of 3 lines are syslog messages — nor do they look like Slack audit entries or Meraki uplink statuses; check the file")
        #expect(ReplayReport.detectedSource(counts(Array("hello\nworld\n".utf8), source: nil)) == nil)
    }

    @Test func readsGzipWholeInPiecesAndAcrossMembers() throws {
        let text = Array((0..<20_000).map { "line \($0)\n" }.joined().utf8)
        let packed = try ReplayFixtures.gzip(Array(text[0..<50_000])) + ReplayFixtures.gzip(Array(text[50_000...]))
        let url = try ReplayFixtures.temporary("two.gz", packed)
        defer { try? FileManager.default.removeItem(at: url) }
        let input = try ReplayInput(path: url.path, chunkSize: 4_096)
        var out: [UInt8] = []
        while try input.next({ out.append(contentsOf: $0) }) {}
        #expect(out == text)
        #expect(input.isCompressed && input.bytesRead == Int64(packed.count) && input.bytesOut == Int64(text.count))
    }

    @Test func filesThatCannotBeReplayedSaySoInOneSentence() throws {
        func error(_ path: String) -> ReplayInputError? {
            do {
                let input = try ReplayInput(path: path, chunkSize: 64)
                while try input.next({ _ in }) {}
                return nil
            } catch {
                return error as? ReplayInputError
            }
        }
        let folder = FileManager.default.temporaryDirectory.path
        #expect(error(folder) == .isDirectory(path: folder))
        #expect(error("/nonexistent/audit.jsonl") == .notFound(path: "/nonexistent/audit.jsonl"))
        let empty = try ReplayFixtures.temporary("empty.jsonl", [])
        let emptyGzip = try ReplayFixtures.temporary("empty.gz", ReplayFixtures.gzip([]))
        let whole = try ReplayFixtures.gzip(Array((0..<2_000).map { "entry \($0)\n" }.joined().utf8))
        let cut = try ReplayFixtures.temporary("cut.gz", Array(whole[0..<(whole.count / 2)]))
        var broken = whole
        for index in 20..<40 { broken[index] ^= 0x5a }
        let corrupt = try ReplayFixtures.temporary("corrupt.gz", broken)
        defer { for url in [empty, emptyGzip, cut, corrupt] { try? FileManager.default.removeItem(at: url) } }
        #expect(error(empty.path) == .empty(path: empty.path, compressed: false))
        #expect(error(emptyGzip.path) == .empty(path: emptyGzip.path, compressed: true))
        #expect(error(cut.path) == .truncatedGzip(path: cut.path))
        if case .corruptGzip? = error(corrupt.path) {} else { Issue.record("a damaged gzip stream is not reported as corrupt") }
        #expect(ReplayInputError.reason(EACCES) == "permission denied")
        #expect(ReplayInputError.notReadable(path: "a.jsonl", reason: "permission denied").description == "a.jsonl cannot be read: permission denied")
        #expect(ReplayInputError.isDirectory(path: "logs").description.hasPrefix("logs is a directory: give one file"))
    }

    @Test func progressAndSummaryWords() {
        #expect(
            ReplayText.count(0) == "0" && ReplayText.count(999) == "999" && ReplayText.count(5_000) == "5,000"
                && ReplayText.count(1_234_567) == "1,234,567")
        #expect(ReplayText.bytes(512) == "512 bytes" && ReplayText.bytes(1_572_864) == "1.5 MiB")
        #expect(
            ReplayReport.progress(lines: 250_000, bytesRead: 50, size: 200, seconds: 0.5)
                == "250,000 lines  500,000 lines/s  [######..................]  25%")
        #expect(ReplayReport.progress(lines: 10, bytesRead: 2_048, size: nil, seconds: 1) == "10 lines  10 lines/s  2.0 KiB read")
        #expect(ReplayReport.progress(lines: 10, bytesRead: 2_048, size: nil, seconds: 1, width: 8) == "10 line")

        var counts = ReplayCounts()
        counts.lines = 27
        counts.records = 27
        counts.events = 25
        counts.duplicates = 1
        counts.malformed = 1
        counts.firstMalformed = 27
        counts.detections = 3
        counts.detectionsByRule = ["slack.max_daily_download": 1, "slack.failed_logins_by_ip": 2]
        let input = ReplayReport.Input(path: "a.jsonl.gz", compressed: true, bytesRead: 1_024, bytesOut: 4_096, layout: .lines)
        let summary = ReplayReport.summary(counts, source: .slackAudit, detected: true, input: input, seconds: 0.5)
        #expect(
            summary == [
                "replayed 27 lines (25 events, 1 duplicates, 1 malformed, 0 without an event) → 3 detections in 0.50 s: 54 lines/s",
                "  input: a.jsonl.gz, gzip, 1.0 KiB (4.0 KiB decompressed), one record per line",
                "  source: slack-audit (detected) — 26 of 27 lines are Slack audit entries; 1 malformed, the first at line 27",
                "  detections: slack.failed_logins_by_ip 2, slack.max_daily_download 1",
            ])
    }
}
