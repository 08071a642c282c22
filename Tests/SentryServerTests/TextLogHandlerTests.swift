import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryTestSupport
import Testing

@testable import SentryServer

/// `SENTRY_LOG_FORMAT=text`: one event is one line whatever a value holds, in the layout operators grep today.
@Suite struct ServerTextLogHandlerTests {
    /// What a forger would put in a value: the rest of a genuine-looking line.
    static let forged = "\n2026-12-01T00:00:00+0000 error : forged"

    /// A logger at every level whose lines go to `written`, one element per write.
    static func logger(_ written: Locked<[String]>) -> Logger {
        var logger = Logger(label: "sentry") { label in TextLogHandler(label: label, write: { line in written.withLock { $0.append(line) } }) }
        logger.logLevel = .trace
        return logger
    }

    /// Every write is exactly one line, and no line of the output starts like the forged one.
    static func expectOneLineEach(_ written: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for line in written {
            #expect(line.hasSuffix("\n") && line.filter { $0 == "\n" }.count == 1, "\(line.debugDescription)", sourceLocation: sourceLocation)
        }
        let lines = written.joined().split(separator: "\n")
        #expect(lines.count == written.count, sourceLocation: sourceLocation)
        #expect(!lines.contains { $0.hasPrefix("2026-12-01T00:00:00+0000 error") }, sourceLocation: sourceLocation)
    }

    @Test func aForgedLineCannotAppearInAnyValue() throws {
        let written = Locked<[String]>([])
        var logger = Self.logger(written)
        logger[metadataKey: "slack.user"] = .string("U0ALICE" + Self.forged)
        logger.notice("message\(Self.forged)")
        logger.notice("metadata", metadata: ["slack.action_id": .string("ack" + Self.forged)])
        logger.notice("convertible", metadata: ["count": .stringConvertible("7" + Self.forged)])
        logger.notice("array", metadata: ["values": .array([.string("a"), .string("b" + Self.forged)])])
        logger.notice("dictionary", metadata: ["nested": .dictionary(["k" + Self.forged: .dictionary(["inner": .array([.string(Self.forged)])])])])
        logger.notice("key", metadata: ["key" + Self.forged: "v"])
        logger.error("carriage return", metadata: ["v": .string("x\r2026-12-01T00:00:00+0000 error : forged")])
        #expect(written.current.count == 7)
        Self.expectOneLineEach(written.current)
        let first = try #require(written.current.first)
        #expect(first.hasSuffix(#" [SentryServerTests] message\n2026-12-01T00:00:00+0000 error : forged"# + "\n"))
        #expect(written.current[1].contains(#"slack.action_id=ack\n2026-12-01T00:00:00+0000 error : forged"#))
        #expect(written.current[4].contains(#"nested=["k\n2026-12-01T00:00:00+0000 error : forged": ["inner": ["\n2026"#))
        #expect(written.current[6].contains(#"v=x\r2026-12-01"#))
    }

    @Test(arguments: [
        ("\n", #"\n"#), ("\r", #"\r"#), ("\t", #"\t"#), ("\u{0}", #"\u{0}"#), ("\u{1B}[31mred", #"\u{1B}[31mred"#), ("\u{7F}", #"\u{7F}"#),
        ("\u{85}", #"\u{85}"#), ("\u{9B}2J", #"\u{9B}2J"#), ("\u{2028}", #"\u{2028}"#), ("\u{2029}", #"\u{2029}"#), (#"a\nb"#, #"a\\nb"#),
        (#"C:\temp"#, #"C:\\temp"#), ("plain é ü 日本 \"quoted\"", "plain é ü 日本 \"quoted\""),
    ])
    func controlCharactersAndTheBackslashAreEscaped(_ raw: String, _ shown: String) throws {
        #expect(TextLogHandler.escaped(raw) == shown)
        let written = Locked<[String]>([])
        Self.logger(written).info("\(raw)", metadata: ["value": .string(raw)])
        let line = try #require(written.current.first)
        #expect(line.hasSuffix("] \(shown)\n"))
        #expect(line.contains(" value=\(shown) "))
    }

    @Test func escapesAreUnambiguous() {
        // Inputs that a careless escaper would write alike.
        let inputs = ["a\nb", #"a\nb"#, #"a\\nb"#, "a\\\nb", "a\u{1B}b", #"a\u{1B}b"#, "a\rb", #"a\rb"#, "\"", #"\""#]
        let outputs = inputs.map { TextLogHandler.escaped($0) }
        #expect(Set(outputs).count == inputs.count, "\(outputs)")
        let quoted = inputs.map { TextLogHandler.quoted($0) }
        #expect(Set(quoted).count == inputs.count, "\(quoted)")
        #expect(TextLogHandler.quoted(#"say "hi"\"#) == #""say \"hi\"\\""#)
    }

    /// Collects what `StreamLogHandler` writes.
    struct Stream: TextOutputStream, Sendable {
        let written: Locked<[String]>
        mutating func write(_ string: String) { written.withLock { $0.append(string) } }
    }

    @Test func ordinaryLinesAreLaidOutAsStreamLogHandlerLaysThemOut() {
        let ours = Locked<[String]>([])
        let theirs = Locked<[String]>([])
        var mine = Self.logger(ours)
        var stream = Logger(label: "sentry") { StreamLogHandler(label: $0, stream: Stream(written: theirs), metadataProvider: nil) }
        stream.logLevel = .trace
        for logger in [mine, stream] {
            logger.info("listening", metadata: ["http.host": "127.0.0.1", "http.port": "8080", "playbooks": "3"])
            logger.debug("request", metadata: ["http.endpoint": "slack_commands", "http.status": .stringConvertible(200)])
            logger.notice("no metadata")
            logger.warning("nested", metadata: ["list": ["a b", "c\"d", "é"], "map": ["only": ["x", "y"]], "empty": [:]])
        }
        mine[metadataKey: "request.id"] = "00ff00ff00ff00ff"
        stream[metadataKey: "request.id"] = "00ff00ff00ff00ff"
        mine.error("request failed", metadata: ["error": "store unreachable"])
        stream.error("request failed", metadata: ["error": "store unreachable"])
        // The timestamp (the first word) may differ by a second.
        let strip = { (lines: [String]) in lines.map { $0.drop { $0 != " " } } }
        #expect(strip(ours.current) == strip(theirs.current))
        #expect(ours.current.count == 5)
        #expect(ours.current.allSatisfy { $0.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} "#, options: .regularExpression) != nil })
    }

    @Test func aSignedClickWithANewlineInItsActionIDLogsOneLine() async throws {
        let written = Locked<[String]>([])
        try await withHarness(logger: Self.logger(written)) { h in
            let (alertID, _) = try await h.postedAlert()
            written.withLock { $0.removeAll() }
            let unknown = try await h.client.click("ack" + Self.forged, value: alertID, user: ServerHarness.alice, responseURL: h.responseURL)
            #expect(unknown.status == 200)
            let lines = written.current
            #expect(
                lines.contains { $0.contains("button not handled") && $0.contains(#"slack.action_id=ack\n2026-12-01T00:00:00+0000 error : forged"#) })
            Self.expectOneLineEach(lines)

            // The value and the user id reach the log too.
            written.withLock { $0.removeAll() }
            let other = try await h.client.click(
                "ack", value: alertID + Self.forged, user: ServerHarness.alice + Self.forged, responseURL: h.responseURL)
            #expect(other.status == 200)
            #expect(written.current.contains { $0.contains(#"slack.user=U0ALICE\n2026-12-01T00:00:00+0000 error : forged"#) })
            Self.expectOneLineEach(written.current)
        }
    }
}
