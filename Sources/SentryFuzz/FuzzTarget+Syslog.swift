import Foundation
import SentryCore

extension FuzzTarget {
    /// A syslog TCP stream: framing must not depend on how the bytes arrive, and every frame parses or is refused.
    static let syslog = FuzzTarget(name: "syslog") { bytes in
        // A small cap, so that oversized frames and lines are reached by short inputs.
        let cap = 256
        var whole = SyslogFramer(maxFrameBytes: cap)
        let expected = whole.feed(bytes) + whole.finish()

        // The same stream in reads of 1 to 16 bytes, each size picked by the byte it starts at.
        var pieces = SyslogFramer(maxFrameBytes: cap)
        var frames: [SyslogFramer.Frame] = []
        var offset = 0
        while offset < bytes.count {
            let size = min(Int(bytes[offset] % 16) + 1, bytes.count - offset)
            frames += pieces.feed(bytes[offset..<offset + size])
            FuzzCheck.expect(pieces.bufferedBytes <= cap + 16, "framer holds \(pieces.bufferedBytes) bytes")
            offset += size
        }
        frames += pieces.finish()
        FuzzCheck.expect(frames == expected, "read sizes changed the frames: \(frames) against \(expected)")

        let parser = SyslogParser(maxLength: cap)
        let receivedAt = Date(timeIntervalSince1970: 1_795_000_000)
        for case .message(let line) in expected {
            FuzzCheck.expect(!line.isEmpty && line.count <= cap, "frame of \(line.count) bytes")
            checkSyslogLine(line, parser: parser, receivedAt: receivedAt)
        }
    }

    private static func checkSyslogLine(_ line: [UInt8], parser: SyslogParser, receivedAt: Date) {
        let parsed = Result { () throws(SyslogParseError) in try parser.parse(line, receivedAt: receivedAt) }
        if let text = String(validating: line, as: UTF8.self) {
            let fromText = Result { () throws(SyslogParseError) in try parser.parse(text, receivedAt: receivedAt) }
            FuzzCheck.expect(fromText == parsed, "parsing text and bytes disagree")
        }
        guard case .success(let message) = parsed else { return }
        var trimmed = line[...]
        while let last = trimmed.last, last == 0x0A || last == 0x0D || last == 0 { trimmed = trimmed.dropLast() }
        FuzzCheck.expect(message.raw == String(decoding: trimmed, as: UTF8.self), "raw is not the line")
        if let priority = message.priority { FuzzCheck.expect((0...191).contains(priority), "priority \(priority)") }
        if message.format == .rfc3164, let timestamp = message.timestamp {
            // A year-less date is placed no more than a day after it was received.
            FuzzCheck.expect(timestamp.timeIntervalSince(receivedAt) <= 86_400, "RFC 3164 date \(timestamp) after \(receivedAt)")
        }
        if let event = MerakiSyslogEvents.event(from: message, receivedAt: receivedAt) {
            FuzzCheck.expect(event.source == .syslog, "event from \(event.source)")
        }
    }
}
