import Foundation
import SentryCore
import SentryTestSupport
import Testing

@Suite struct SyslogFramerTests {
    private func messages(_ frames: [SyslogFramer.Frame]) -> [String] {
        frames.compactMap { frame in
            if case .message(let bytes) = frame { return String(decoding: bytes, as: UTF8.self) }
            return nil
        }
    }

    @Test func newlineFramesTwoInOneReadAndOneSplitAcrossReads() {
        var framer = SyslogFramer()
        #expect(messages(framer.feed(Array("<13>one\r\n<13>two\n<13>thr".utf8))) == ["<13>one", "<13>two"])
        #expect(framer.bufferedBytes == 7)
        #expect(messages(framer.feed(Array("ee\n".utf8))) == ["<13>three"])
        #expect(framer.bufferedBytes == 0)
    }

    @Test func octetCountingTwoInOneReadAndOneSplitAcrossReads() {
        let a = "<134>1 1386337435.108107268 MX84 events failover to wan2"
        let b = "<134>1 1386337436.1 MX84 events failover\nwith a newline inside"
        var framer = SyslogFramer()
        let stream = Array((octetCounted(a) + octetCounted(b) + octetCounted(a)).utf8)
        let cut = stream.count - 10
        #expect(messages(framer.feed(stream[..<cut])) == [a, b])
        #expect(messages(framer.feed(stream[cut...])) == [a])
    }

    @Test func everySplitPointGivesTheSameFrames() {
        let lines = ["<134>1 1386337435.108107268 MX84 events failover to wan2", "Dec 6 08:41:44 192.168.1.1 1 1386337316.2 MX84 events x"]
        let stream = Array((octetCounted(lines[0]) + lines[1] + "\n" + octetCounted(lines[0]) + lines[1] + "\r\n").utf8)
        for cut in 0...stream.count {
            var framer = SyslogFramer()
            let frames = framer.feed(stream[..<cut]) + framer.feed(stream[cut...]) + framer.finish()
            #expect(messages(frames) == lines + lines, "cut at \(cut)")
        }
        var bytewise = SyslogFramer()
        var frames: [SyslogFramer.Frame] = []
        for byte in stream { frames += bytewise.feed([byte]) }
        #expect(messages(frames) == lines + lines)
    }

    @Test func mxLineStartingWithVersionDigitIsNotAnOctetCount() {
        var framer = SyslogFramer()
        let line = "1 1386337435.108107268 MX84 events failover to wan1"
        #expect(messages(framer.feed(Array((line + "\n").utf8))) == [line])
    }

    @Test func oversizedOctetFrameIsSkippedWithoutBuffering() {
        var framer = SyslogFramer(maxFrameBytes: 100)
        var frames = framer.feed(Array("5000 <13>".utf8))
        #expect(frames == [.oversized(length: 5000)])
        for _ in 0..<10 {
            frames = framer.feed([UInt8](repeating: 120, count: 499))
            #expect(frames.isEmpty)
            #expect(framer.bufferedBytes == 0)
        }
        frames = framer.feed(Array("aaaaaa9 <13>after".utf8))
        #expect(messages(frames) == ["<13>after"])
    }

    @Test func endlessLineIsSkippedUntilItsNewline() {
        var framer = SyslogFramer(maxFrameBytes: 100)
        var frames: [SyslogFramer.Frame] = []
        for _ in 0..<1_000 {
            frames += framer.feed([UInt8](repeating: 65, count: 1_000))
            #expect(framer.bufferedBytes <= 117)
        }
        #expect(frames == [.oversized(length: nil)])
        frames = framer.feed(Array("tail\n<13>next\n".utf8))
        #expect(messages(frames) == ["<13>next"])
    }

    @Test func oneHugeReadIsFramedWithBoundedBuffering() {
        var framer = SyslogFramer(maxFrameBytes: 64)
        let line = "<13>Oct 11 22:14:15 host app: hi\n"
        let frames = framer.feed(Array(String(repeating: line, count: 5_000).utf8))
        #expect(frames.count == 5_000)
        #expect(framer.bufferedBytes == 0)
    }

    @Test func frameExactlyAtTheCapPasses() {
        var framer = SyslogFramer(maxFrameBytes: 10)
        #expect(framer.feed(Array("0123456789\r\n0123456789A\n".utf8)) == [.message(Array("0123456789".utf8)), .oversized(length: nil)])
        #expect(framer.feed(Array("10 <123456789".utf8)) == [.message(Array("<123456789".utf8))])
    }

    /// Found by the `syslog` fuzz target: a line at the cap followed by several NULs (or CRs) was a message when
    /// read at once but oversized when read in pieces. The minimized input, as libFuzzer wrote it.
    @Test func lineWithTrailingTerminatorsIsFramedTheSameWhateverTheReadSizes() throws {
        let crash = try #require(
            Data(
                base64Encoded:
                    "OTTqM3M/Z25hdHVyZT0xOjQxOTQ0Ov////9pb3JpdHk9MSB0aW1lc3RhbXA9VElNRVNUQU1QRVBPQ0guNjQ3NDYxIGRob3N0PTc0Ojg2OjdBOkQ5OkQ3OkFBIGRpcmVjdGlvbj1pbmdyZXNzIHByb3RvN0E6RDk6RDc6QUEgZGlyZWN0aW9uPWluZ3Jlc3MgcHJvdG9jb2w9dGNwL3QgdGFnOiBsZWFwIGRheUguNjQ3NDYxIGRob3N0PTc0Ojg2OjdBOkQ5OkQ3OkFBIGRpcmVjdGlvbj1pbmdzIHByb3RvY29sPXRjcC90IHRhZzogbGVhcCBkYXkAAAAAAAAAAAAACg=="
            ))
        let readable = Array((String(repeating: "x", count: 248) + String(repeating: "\0", count: 10) + "\n").utf8)
        for stream in [Array(crash), readable] {
            var whole = SyslogFramer(maxFrameBytes: 256)
            let atOnce = whole.feed(stream) + whole.finish()
            var bytewise = SyslogFramer(maxFrameBytes: 256)
            var pieces: [SyslogFramer.Frame] = []
            for byte in stream { pieces += bytewise.feed([byte]) }
            pieces += bytewise.finish()
            #expect(atOnce == pieces)
            #expect(atOnce == [.oversized(length: nil)])
        }
        // One CR at the cap still passes, however it is read.
        var framer = SyslogFramer(maxFrameBytes: 4)
        #expect(framer.feed(Array("abcd\r".utf8)) + framer.feed(Array("\n".utf8)) == [.message(Array("abcd".utf8))])
    }

    @Test func endOfStream() {
        var line = SyslogFramer()
        _ = line.feed(Array("<13>no newline at the end".utf8))
        #expect(messages(line.finish()) == ["<13>no newline at the end"])
        var counted = SyslogFramer()
        _ = counted.feed(Array("100 <13>short".utf8))
        #expect(counted.finish() == [.truncated(received: 9)])
        var blank = SyslogFramer()
        _ = blank.feed(Array("\n\r\n".utf8))
        #expect(blank.finish().isEmpty)
    }
}
