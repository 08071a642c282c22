import ArgumentParser
import Foundation
import SentryConnectors
import SentryCore
import SentryDetect

struct Detect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Built-in detections.", subcommands: [Replay.self])

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the built-in rules over recorded events; prints detections as JSON lines (a summary goes to standard error).")
        @Argument(help: "A JSON-lines file (Slack audit entries, Meraki uplink statuses) or a syslog file") var file: String
        @Option(help: "slack-audit, meraki-uplinks or syslog") var source: String = "slack-audit"
        @Option(help: "Playbook folder (thresholds, windows, patterns)") var playbooks: String = "Playbooks"

        func run() async throws {
            guard let kind = SecurityEvent.Source(rawValue: source) else {
                fail(["--source must be one of slack-audit, meraki-uplinks, syslog"])
            }
            let loaded = loadPlaybooks(playbooks)
            let engine: RuleEngine
            do { engine = try RuleEngine(playbooks: loaded) } catch { fail(["\(error)"]) }
            guard let handle = FileHandle(forReadingAtPath: file) else { fail(["\(file): cannot be read"]) }
            defer { try? handle.close() }

            var replayer = Replayer(engine: engine, source: kind)
            let started = ContinuousClock.now
            try LineReader(handle: handle).forEachLine { line in replayer.consume(line) }
            replayer.flush()
            let elapsed = ContinuousClock.now - started
            let seconds = elapsed.inSeconds
            let rate = seconds > 0 ? Double(replayer.lines) / seconds : 0
            if replayer.late * 2 > replayer.events {
                FileHandle.standardError.write(Data("note: most events come newest-first; detections are the same, but memory grows with the file. Reverse it (tac FILE) for flat memory.\n".utf8))
            }
            FileHandle.standardError.write(Data(String(
                format: "replayed %d lines (%d events, %d duplicates, %d malformed, %d without an event) → %d detections in %.2f s: %.0f lines/s\n",
                replayer.lines, replayer.events, replayer.duplicates, replayer.malformed, replayer.ignored, replayer.detections, seconds, rate).utf8))
        }
    }
}

/// Feeds lines to the engine in batches and prints detections as they fire.
struct Replayer {
    let engine: RuleEngine
    let source: SecurityEvent.Source
    var state = RuleEngine.State()
    var batch: [SecurityEvent] = []
    var seen = RecentIDs()
    var lines = 0
    var events = 0
    var duplicates = 0
    var malformed = 0
    var detections = 0
    /// Lines that were read fine but describe nothing the rules watch (other syslog categories).
    var ignored = 0
    /// Events older than one already read: newest-first files are counted right but keep more in memory.
    var late = 0
    var newest = 0.0
    var uplinks: [String: UplinkSnapshot] = [:]
    let tracker = UplinkTracker(staleAfter: 86_400 * 365)
    let syslog = SyslogParser()
    let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    init(engine: RuleEngine, source: SecurityEvent.Source) {
        self.engine = engine
        self.source = source
        batch.reserveCapacity(4_096)
    }

    mutating func consume(_ line: UnsafeBufferPointer<UInt8>) {
        lines += 1
        if line.isEmpty || line.allSatisfy({ $0 == 0x20 || $0 == 0x0d || $0 == 0x09 }) {
            lines -= 1
            return
        }
        let decoded: [SecurityEvent]
        switch source {
        case .slackAudit:
            guard let event = AuditLineScanner.event(line) else {
                malformed += 1
                return
            }
            decoded = [event]
        case .syslog:
            // Syslog files carry every category; only MX uplink events become events.
            guard let message = syslog.message(from: String(decoding: line, as: UTF8.self), receivedAt: Date()) else {
                malformed += 1
                return
            }
            decoded = MerakiSyslogEvents.event(from: message, receivedAt: message.timestamp ?? Date()).map { [$0] } ?? []
        case .merakiUplinks:
            // One poll per line: the organisation's appliance uplink statuses (a list), or one device's.
            let data = Data(UnsafeRawBufferPointer(line))
            let statuses: [MerakiUplinkStatus]
            if let list = try? JSONDecoder().decode([MerakiUplinkStatus].self, from: data) {
                statuses = list
            } else if let one = try? JSONDecoder().decode(MerakiUplinkStatus.self, from: data) {
                statuses = [one]
            } else {
                malformed += 1
                return
            }
            let reports = statuses.map(UplinkReport.init)
            let newest = reports.compactMap(\.lastReportedAt).max() ?? Date(timeIntervalSince1970: 0)
            let outcome = tracker.track(previous: uplinks, reports: reports, now: newest)
            uplinks = outcome.snapshots
            decoded = outcome.events
        }
        if decoded.isEmpty {
            ignored += 1
            return
        }
        for event in decoded {
            guard seen.insert(event.id) else {
                duplicates += 1
                continue
            }
            events += 1
            let at = event.at.timeIntervalSince1970
            // Jitter of a few minutes is normal; "late" means well behind what was already read.
            if at < newest - 600 { late += 1 } else if at > newest { newest = at }
            batch.append(event)
        }
        if batch.count >= 4_096 { flush() }
    }

    mutating func flush() {
        guard !batch.isEmpty else { return }
        let outcome = engine.process(batch, state: &state, recordCounts: false)
        batch.removeAll(keepingCapacity: true)
        for detection in outcome.detections {
            detections += 1
            if let data = try? encoder.encode(detection) {
                FileHandle.standardOutput.write(data + Data([0x0a]))
            }
        }
    }
}
