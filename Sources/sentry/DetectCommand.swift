import ArgumentParser
import Foundation
import SentryConnectors
import SentryCore
import SentryDetect

struct Detect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Built-in detections.", subcommands: [Replay.self])

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the built-in rules over recorded events; prints detections as JSON lines (progress and a summary go to standard error).")
        @Argument(
            help:
                "Slack audit entries, Meraki uplink statuses or syslog: JSON lines, an API response or Audit Logs page as saved, or any of these gzipped"
        )
        var file: String
        @Option(help: "slack-audit, meraki-uplinks or syslog (default: told from the file)") var source: String?
        @Option(help: "Playbook folder (thresholds, windows, patterns); default SENTRY_PLAYBOOKS, else ./Playbooks") var playbooks: String?

        func run() async throws {
            var given: SecurityEvent.Source?
            if let source {
                guard let kind = SecurityEvent.Source(rawValue: source) else { fail(["--source must be one of slack-audit, meraki-uplinks, syslog"]) }
                given = kind
            }
            let input: ReplayInput
            do { input = try ReplayInput(path: file) } catch { fail([error.description]) }
            let loaded = loadPlaybooks(playbookFolder(environment: ProcessInfo.processInfo.environment))
            let engine: RuleEngine
            do { engine = try RuleEngine(playbooks: loaded) } catch { fail(["\(error)"]) }

            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            let progress = TerminalProgress(size: input.size)
            let emit: (Detection) -> Void = { detection in
                guard let data = try? encoder.encode(detection) else { return }
                progress?.clearIfSharingTheTerminal()
                FileHandle.standardOutput.write(data + Data([0x0a]))
            }

            // Detections of the first pass wait until the end: they stand only if the file turns out to be in order.
            var held: [Detection] = []
            var replayer: Replayer?
            var kind = SecurityEvent.Source.slackAudit
            var readError: (any Error)?
            let started = ContinuousClock.now
            do {
                while !(replayer.map { $0.outOfOrder && $0.sortsRecords } ?? false),
                    try input.next({ chunk in
                        if replayer == nil {
                            let layout = ReplayLayout.sniff(chunk)
                            kind = given ?? detect(head: chunk, layout: layout)
                            replayer = Replayer(engine: engine, source: kind, layout: layout) { held.append($0) }
                        }
                        replayer!.feed(chunk)
                        progress?.update(lines: replayer!.counts.lines, bytesRead: input.bytesRead, started: started)
                    })
                {}
            } catch {
                if case ReplayInputError.empty = error { fail(["\(error)"]) }
                readError = error
            }
            // Finished in place: a copy would share the windows and seen ids, and copy them on the last batch.
            guard replayer != nil else { fail(["\(file): nothing was read"]) }
            replayer!.finish()
            let finished = replayer!
            replayer = nil
            var counts = finished.counts
            var read = ReplayReport.Input(
                path: file, compressed: input.isCompressed, bytesRead: input.bytesRead, bytesOut: input.bytesOut, layout: finished.layout)
            if finished.outOfOrder, finished.sortsRecords, readError == nil {
                // Not in time order (a newest-first export, files joined, a shuffle): read it again into a sorter
                // and replay it in order, so the detections are those of the sorted file, whatever the order.
                held.removeAll()
                let sorter = ExternalSorter()
                let again: ReplayInput
                do { again = try ReplayInput(path: file) } catch { fail([error.description]) }
                var collecting = Replayer(engine: engine, source: kind, layout: finished.layout, collector: sorter) { _ in }
                do {
                    while try again.next({ chunk in
                        collecting.feed(chunk)
                        progress?.update(lines: collecting.counts.lines, bytesRead: again.bytesRead, started: started)
                    }) {}
                } catch {
                    readError = error
                }
                collecting.finish()
                if let error = collecting.collectError { fail(["\(error)"]) }
                var ordered = Replayer(engine: engine, source: kind, layout: finished.layout, emit: emit)
                do { try ordered.replaySorted(sorter) } catch { fail(["\(error)"]) }
                counts = ReplayCounts(collected: collecting.counts, replayed: ordered.counts)
                read = ReplayReport.Input(
                    path: file, compressed: again.isCompressed, bytesRead: again.bytesRead, bytesOut: again.bytesOut, layout: finished.layout)
                progress?.clear()
                FileHandle.standardError.write(
                    Data(
                        "note: the file is not in time order; its \(sorter.count) records were put in order first (\(sorter.runsWritten) runs on disk), so the detections are those of the sorted file\n"
                            .utf8))
            } else {
                for detection in held { emit(detection) }
            }
            let seconds = (ContinuousClock.now - started).inSeconds
            progress?.clear()

            let summary = ReplayReport.summary(counts, source: kind, detected: given == nil, input: read, seconds: seconds)
            FileHandle.standardError.write(Data((summary.joined(separator: "\n") + "\n").utf8))
            if let readError { fail(["\(readError)"]) }
            if counts.lines == 0 { fail(["\(file) holds only blank lines: there is nothing to replay"]) }
            if let mismatch = ReplayReport.mismatch(counts, source: kind, layout: finished.layout) { fail([mismatch]) }
        }

        /// The source most of the file's first chunk reads as; says why and stops when none does.
        func detect(head: UnsafeBufferPointer<UInt8>, layout: ReplayLayout) -> SecurityEvent.Source {
            var sniffer = Replayer(engine: nil, source: nil, layout: layout) { _ in }
            sniffer.feed(head)
            // A line cut at the head's end reads as nothing and so does not sway the count.
            sniffer.finish()
            if let found = ReplayReport.detectedSource(sniffer.counts) { return found }
            // Blank so far: the replay says so at the end if the whole file is.
            if sniffer.counts.lines == 0 { return .slackAudit }
            fail([ReplayReport.undetected(sniffer.counts, path: file, layout: layout, headBytes: Int64(head.count))])
        }

        /// `--playbooks`, else `SENTRY_PLAYBOOKS`, else `./Playbooks`; says which to set when there is none.
        func playbookFolder(environment: [String: String]) -> String {
            if let playbooks { return playbooks }
            if let folder = environment["SENTRY_PLAYBOOKS"], !folder.isEmpty {
                guard isFolder(folder) else {
                    fail(["SENTRY_PLAYBOOKS is \(folder), which is not a folder; point it at your playbooks or pass --playbooks DIR"])
                }
                return folder
            }
            guard isFolder("Playbooks") else {
                fail(["no playbooks: SENTRY_PLAYBOOKS is not set and there is no ./Playbooks folder here; pass --playbooks DIR"])
            }
            return "Playbooks"
        }

        func isFolder(_ path: String) -> Bool {
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }
}

/// The progress line on standard error, redrawn at most ten times a second; nil when standard error is no terminal.
final class TerminalProgress {
    let size: Int64?
    let width: Int
    let sharesTheTerminal = isatty(STDOUT_FILENO) == 1
    var last: ContinuousClock.Instant?
    var shown = false

    init?(size: Int64?, width: Int = 80) {
        guard isatty(STDERR_FILENO) == 1 else { return nil }
        self.size = size
        self.width = width
    }

    func update(lines: Int, bytesRead: Int64, started: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        if let last, now - last < .milliseconds(100) { return }
        last = now
        let line = ReplayReport.progress(lines: lines, bytesRead: bytesRead, size: size, seconds: (now - started).inSeconds, width: width)
        FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
        shown = true
    }

    func clear() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
        shown = false
    }

    /// A detection printed to the same terminal would run into the progress line.
    func clearIfSharingTheTerminal() {
        if sharesTheTerminal { clear() }
    }
}
