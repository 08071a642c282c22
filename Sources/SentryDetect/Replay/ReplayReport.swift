import Foundation
import SentryCore

/// What `sentry detect replay` says on standard error: the progress line, the summary, and why a file is not the
/// source it was taken for. Standard output carries only detections.
public enum ReplayReport {
    /// What was read from the file, for the summary.
    public struct Input: Sendable, Equatable {
        public var path: String
        public var compressed: Bool
        public var bytesRead: Int64
        public var bytesOut: Int64
        public var layout: ReplayLayout

        public init(path: String, compressed: Bool, bytesRead: Int64, bytesOut: Int64, layout: ReplayLayout) {
            self.path = path
            self.compressed = compressed
            self.bytesRead = bytesRead
            self.bytesOut = bytesOut
            self.layout = layout
        }
    }

    /// One line, redrawn in place: lines so far, their rate, and how far into the file (when its size is known).
    public static func progress(lines: Int, bytesRead: Int64, size: Int64?, seconds: Double, width: Int = 80) -> String {
        let rate = seconds > 0 ? Int(Double(lines) / seconds) : 0
        var text = "\(ReplayText.count(lines)) lines  \(ReplayText.count(rate)) lines/s"
        if let size, size > 0 {
            let fraction = min(1, max(0, Double(bytesRead) / Double(size)))
            let bar = 24
            let filled = Int(fraction * Double(bar))
            text += "  [" + String(repeating: "#", count: filled) + String(repeating: ".", count: bar - filled) + "] "
            text += String(format: "%3d%%", Int(fraction * 100))
        } else {
            text += "  \(ReplayText.bytes(bytesRead)) read"
        }
        return String(text.prefix(max(1, width - 1)))
    }

    /// The summary: the totals line (its shape is read by bench/bench_tools.py), then the input, the source and
    /// the detections per rule.
    public static func summary(_ counts: ReplayCounts, source: SecurityEvent.Source, detected: Bool, input: Input, seconds: Double) -> [String] {
        let rate = seconds > 0 ? Double(counts.lines) / seconds : 0
        var lines = [
            String(
                format: "replayed %d lines (%d events, %d duplicates, %d malformed, %d without an event) → %d detections in %.2f s: %.0f lines/s",
                counts.lines, counts.events, counts.duplicates, counts.malformed, counts.ignored, counts.detections, seconds, rate)
        ]
        var read = "  input: \(input.path), "
        if input.compressed {
            read += "gzip, \(ReplayText.bytes(input.bytesRead)) (\(ReplayText.bytes(input.bytesOut)) decompressed), "
        } else {
            read += "\(ReplayText.bytes(input.bytesRead)), "
        }
        read +=
            input.layout == .lines
            ? "one record per line" : "JSON documents, \(ReplayText.count(counts.records)) record\(counts.records == 1 ? "" : "s")"
        lines.append(read)

        var what = "  source: \(source.rawValue)\(detected ? " (detected)" : "") — \(ReplayText.count(counts.readable)) of "
        what += "\(ReplayText.count(counts.records)) \(unit(counts, input.layout)) are \(ReplayText.plural(source))"
        if counts.malformed > 0 {
            let first = counts.firstMalformed.map { ", the first at \(input.layout == .lines ? "line" : "record") \(ReplayText.count($0))" } ?? ""
            what += "; \(ReplayText.count(counts.malformed)) malformed\(first)"
            if case (let other, let count)? = lookalike(counts) {
                let of = counts.lookalikesSampled < counts.malformed ? " of the first \(ReplayText.count(counts.lookalikesSampled))" : ""
                what += " (\(ReplayText.count(count))\(of) read as \(ReplayText.plural(other)))"
            }
        }
        lines.append(what)

        if counts.detectionsByRule.isEmpty {
            lines.append("  detections: none")
        } else {
            let rules = counts.detectionsByRule.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            lines.append("  detections: " + rules.map { "\($0.key) \(ReplayText.count($0.value))" }.joined(separator: ", "))
        }
        return lines
    }

    /// Why the replay proves nothing, when most records are not the source: what they look like instead.
    public static func mismatch(_ counts: ReplayCounts, source: SecurityEvent.Source, layout: ReplayLayout) -> String? {
        guard counts.records > 0, counts.malformed * 2 > counts.records else { return nil }
        var text =
            "\(ReplayText.count(counts.readable)) of \(ReplayText.count(counts.records)) \(unit(counts, layout)) are \(ReplayText.plural(source))"
        if case (let other, let count)? = lookalike(counts), count * 2 > counts.lookalikesSampled {
            text += " — they look like \(ReplayText.plural(other)); try --source \(other.rawValue)"
        } else {
            let others = SecurityEvent.Source.allCases.filter { $0 != source }.map(ReplayText.plural)
            text += " — nor do they look like \(others.joined(separator: " or ")); check the file"
        }
        return text
    }

    /// The source most records of a file's head read as; nil when none does.
    public static func detectedSource(_ counts: ReplayCounts) -> SecurityEvent.Source? {
        var best: (SecurityEvent.Source, Int)?
        for source in SecurityEvent.Source.allCases {
            let count = counts.recognised[source] ?? 0
            if count > 0, count > (best?.1 ?? 0) { best = (source, count) }
        }
        return best?.0
    }

    /// Why the source could not be told from a file's head.
    public static func undetected(_ counts: ReplayCounts, path: String, layout: ReplayLayout, headBytes: Int64) -> String {
        let kinds = SecurityEvent.Source.allCases.map(ReplayText.plural)
        let list = kinds.dropLast().joined(separator: ", ") + " or " + kinds.last!
        let choices = SecurityEvent.Source.allCases.map(\.rawValue).joined(separator: "|")
        guard counts.records > 0 else {
            return
                "the first \(ReplayText.bytes(headBytes)) of \(path) hold no whole record to tell its source by; say which with --source \(choices)"
        }
        return
            "none of the first \(ReplayText.count(counts.records)) \(unit(counts, layout)) of \(path) read as \(list); if it holds one of them, say which with --source \(choices)"
    }

    /// The other source most malformed records read as.
    static func lookalike(_ counts: ReplayCounts) -> (SecurityEvent.Source, Int)? {
        counts.lookalikes.max { ($0.value, $1.key.rawValue) < ($1.value, $0.key.rawValue) }.map { ($0.key, $0.value) }
    }

    static func unit(_ counts: ReplayCounts, _ layout: ReplayLayout) -> String {
        layout == .lines && counts.records == counts.lines ? "lines" : "records"
    }
}
