import Foundation
import SentryConnectors
import SentryCore

/// How a file to replay is laid out: one record per line (JSON lines, syslog), or JSON documents that may span
/// many lines (a pretty-printed API response, an Audit Logs page).
public enum ReplayLayout: Sendable, Equatable {
    case lines
    case documents

    /// Decided on the first line: JSON that does not close on its first line is a document.
    public static func sniff(_ head: UnsafeBufferPointer<UInt8>) -> ReplayLayout {
        var start = 0
        while start < head.count, ReplayText.isSpace(head[start]) { start += 1 }
        guard start < head.count, head[start] == 0x7b || head[start] == 0x5b else { return .lines }
        var end = start
        while end < head.count, head[end] != 0x0a { end += 1 }
        var framer = JSONRecordFramer()
        framer.feed(UnsafeBufferPointer(rebasing: head[start..<end])) { _ in }
        return framer.isOpen ? .documents : .lines
    }
}

/// What a replay read and found, for the summary and for telling whether the file was the source it was said to be.
public struct ReplayCounts: Sendable, Equatable {
    /// Lines that were not blank.
    public var lines = 0
    /// Entries, polls or syslog messages offered to the source's reader: one per line in JSON lines and syslog.
    public var records = 0
    public var events = 0
    public var duplicates = 0
    public var malformed = 0
    /// Records read fine that describe nothing the rules watch (other syslog categories, a poll that changed nothing).
    public var ignored = 0
    public var detections = 0
    /// Events older than one already read: newest-first files are counted right but keep more in memory.
    public var late = 0
    /// Line (lines layout) or record (documents layout) of the first malformed record.
    public var firstMalformed: Int?
    public var detectionsByRule: [String: Int] = [:]
    /// Of the malformed records (the first `Replayer.lookalikeSample`), how many another source reads.
    public var lookalikes: [SecurityEvent.Source: Int] = [:]
    public var lookalikesSampled = 0
    /// When sniffing (no source): records each source reads.
    public var recognised: [SecurityEvent.Source: Int] = [:]

    public init() {}

    /// Records read as the source.
    public var readable: Int { records - malformed }

    /// A sorted replay's counts: what was read from the file, and what the rules made of it once in order.
    public init(collected: ReplayCounts, replayed: ReplayCounts) {
        self = collected
        events = replayed.events
        duplicates = replayed.duplicates
        ignored = collected.ignored + replayed.ignored
        detections = replayed.detections
        late = 0
        detectionsByRule = replayed.detectionsByRule
    }
}

/// Feeds a file's records to the engine in batches and hands out detections as they fire. Without a source it
/// only counts which source each record reads as (to detect the source from a file's head).
public struct Replayer {
    public static let lookalikeSample = 1_000

    public let source: SecurityEvent.Source?
    public let layout: ReplayLayout
    public private(set) var counts = ReplayCounts()

    let engine: RuleEngine?
    /// What `engine` reads; nil without one.
    let actionsRead: Set<String>?
    /// What `reads` found for the actions met so far (a few).
    var actionsSeen: [(action: String, read: Bool)] = []
    let emit: (Detection) -> Void
    /// Set for the second pass over a file found out of order: records go here, keyed by time, instead of to the
    /// rules; `replaySorted` then feeds them back in order.
    let collector: ExternalSorter?
    public private(set) var collectError: (any Error)?
    /// An event older than one already read (or a poll older than the last): the file is not in time order, and
    /// detections read in this order could differ from the sorted file's.
    public private(set) var outOfOrder = false
    var state = RuleEngine.State()
    /// Events wait here until they are `reorderHorizon` behind the newest one, and leave in (time, id) order, in
    /// batches of `batchSize`: a file whose entries are a little out of order (jitter, overlapping pages) reaches the
    /// rules sorted in one pass, and ties never depend on where they stood in the file.
    var pending = ReorderQueue()
    static let batchSize = 4_096
    /// The last event handed on; one older than it arriving means the file needs the sorted pass.
    var released = -Double.infinity
    var releasedID = EventID("")
    var lastPollAt = -Double.infinity
    public static let reorderHorizon = 900.0
    var seen = RecentIDs()
    /// Events read and not yet looked up among the recent ids: they are looked up together, so that the lookups'
    /// memory reads overlap instead of each waiting for the one before.
    var arrived: [SecurityEvent] = []
    static let vacated = SecurityEvent(source: .slackAudit, id: "", at: Date(timeIntervalSince1970: 0), action: "")
    /// Whether each of `arrived` was fresh (kept for its capacity).
    var freshIDs: [Bool] = []
    var newest = 0.0
    var lineNumber = 0
    var endsWithNewline = true
    var splitter = LineSplitter()
    var framer = JSONRecordFramer()
    /// The statuses of one Meraki response being framed: a response is one poll.
    var poll: [UplinkReport] = []
    var uplinks = UplinkTracker.Memory()
    let tracker = UplinkTracker(staleAfter: 86_400 * 365)
    let syslog = SyslogParser()

    public init(
        engine: RuleEngine?, source: SecurityEvent.Source?, layout: ReplayLayout, collector: ExternalSorter? = nil,
        emit: @escaping (Detection) -> Void
    ) {
        self.collector = collector
        self.engine = engine
        actionsRead = engine?.actions
        self.source = source
        self.layout = layout
        self.emit = emit
    }

    /// The next piece of the file, cut anywhere.
    public mutating func feed(_ chunk: UnsafeBufferPointer<UInt8>) {
        guard let last = chunk.last else { return }
        endsWithNewline = last == 0x0a
        // The splitter and framer are moved out while they call back into `self`.
        switch layout {
        case .lines:
            var splitter = self.splitter
            self.splitter = LineSplitter()
            splitter.feed(chunk) { consume(line: $0) }
            self.splitter = splitter
        case .documents:
            counts.lines += ReplayText.newlines(in: chunk)
            var framer = self.framer
            self.framer = JSONRecordFramer()
            framer.feed(chunk) { handle($0) }
            self.framer = framer
        }
        admitArrived()
    }

    /// The end of the file: its last line or document, and the batch not yet processed.
    public mutating func finish() {
        switch layout {
        case .lines:
            var splitter = self.splitter
            self.splitter = LineSplitter()
            splitter.finish { consume(line: $0) }
        case .documents:
            if !endsWithNewline { counts.lines += 1 }
            var framer = self.framer
            self.framer = JSONRecordFramer()
            framer.finish { handle($0) }
        }
        endPoll()
        admitArrived()
        releaseAll()
        flush()
    }

    /// Whether records are sorted before the rules see them: only where a record stands alone (an audit entry, a
    /// syslog line, a poll on a line of its own); a Meraki response spread over many lines is one poll as it is.
    public var sortsRecords: Bool { !(source == .merakiUplinks && layout == .documents) }

    /// Keeps a record for the sorted pass under the time of what it describes.
    mutating func collect(_ record: UnsafeBufferPointer<UInt8>, at time: Double, into collector: ExternalSorter) {
        do {
            try collector.append(time: time, record)
        } catch {
            if collectError == nil { collectError = error }
        }
    }

    /// The second pass's records, in time order, through the rules; counts as a first pass would, except lines.
    public mutating func replaySorted(_ sorter: ExternalSorter) throws {
        try sorter.drain { _, record in
            counts.records += 1
            if !take(record, element: layout == .documents) { malformed(record) }
        }
        endPoll()
        admitArrived()
        releaseAll()
        flush()
    }

    mutating func consume(line: UnsafeBufferPointer<UInt8>) {
        lineNumber += 1
        guard let first = line.first(where: { !ReplayText.isSpace($0) }) else { return }
        counts.lines += 1
        if take(line, element: false) {
            counts.records += 1
            return
        }
        guard first == 0x7b || first == 0x5b else {
            counts.records += 1
            return malformed(line)
        }
        // A whole document on one line: an Audit Logs page, a list of entries, an object that is no entry.
        var framer = JSONRecordFramer()
        var records = 0
        var broken = false
        func handle(_ event: JSONRecordFramer.Event) {
            switch event {
            case .record(let bytes):
                records += 1
                counts.records += 1
                if !take(bytes, element: true) { malformed(bytes) }
            case .documentEnded:
                endPoll()
            case .junk:
                broken = true
            }
        }
        framer.feed(line, handle)
        framer.finish(handle)
        poll.removeAll()
        if records == 0 {
            // Nothing in it (an empty list or page), or not JSON after all.
            counts.records += 1
            if broken { malformed(line) } else { counts.ignored += 1 }
        }
    }

    mutating func handle(_ event: JSONRecordFramer.Event) {
        switch event {
        case .record(let bytes):
            counts.records += 1
            if !take(bytes, element: true) { malformed(bytes) }
        case .documentEnded:
            endPoll()
        case .junk:
            counts.records += 1
            malformed(nil)
        }
    }

    mutating func malformed(_ record: UnsafeBufferPointer<UInt8>?) {
        counts.malformed += 1
        if counts.firstMalformed == nil { counts.firstMalformed = layout == .lines ? lineNumber : counts.records }
        guard let record, source != nil, counts.lookalikesSampled < Self.lookalikeSample else { return }
        counts.lookalikesSampled += 1
        if let other = recognise(record), other != source { counts.lookalikes[other, default: 0] += 1 }
    }

    /// Reads one record as the source; false when it is not one. `element`: cut out of a JSON document.
    mutating func take(_ record: UnsafeBufferPointer<UInt8>, element: Bool) -> Bool {
        guard let source else {
            guard let found = recognise(record) else { return false }
            counts.recognised[found, default: 0] += 1
            return true
        }
        switch source {
        case .slackAudit:
            guard let event = AuditLineScanner.event(record) else { return false }
            if let collector { collect(record, at: event.at.timeIntervalSince1970, into: collector) } else { add(event) }
        case .syslog:
            // Syslog files carry every category; only MX uplink events become events.
            guard let message = try? syslog.parse(record, receivedAt: Date()) else { return false }
            if let event = MerakiSyslogEvents.event(from: message, receivedAt: message.timestamp ?? Date()) {
                if let collector { collect(record, at: event.at.timeIntervalSince1970, into: collector) } else { add(event) }
            } else {
                counts.ignored += 1
            }
        case .merakiUplinks:
            if let collector, sortsRecords {
                guard let reports = Self.uplinkReports(record) else { return false }
                let at = reports.compactMap(\.lastReportedAt).max() ?? Date(timeIntervalSince1970: 0)
                collect(record, at: at.timeIntervalSince1970, into: collector)
            } else if element {
                // One appliance of a response; the response is tracked as one poll when it ends.
                guard let reports = Self.uplinkReports(record, single: true) else { return false }
                poll += reports
            } else {
                // One poll per line: the organisation's appliance uplink statuses (a list), or one device's.
                guard let reports = Self.uplinkReports(record) else { return false }
                track(reports)
            }
        }
        if pending.released >= Self.batchSize { flush() }
        return true
    }

    mutating func add(_ event: consuming SecurityEvent) {
        arrived.append(event)
        if arrived.count >= 1_024 { admitArrived() }
    }

    /// The events that arrived, in order: duplicates counted, the rest on their way to the rules.
    mutating func admitArrived() {
        guard !arrived.isEmpty else { return }
        // Moved out while `admit` changes `self`.
        var batch: [SecurityEvent] = []
        swap(&batch, &arrived)
        var fresh: [Bool] = []
        swap(&fresh, &freshIDs)
        seen.insert(idsOf: batch, into: &fresh)
        // Each event moves into the queue (reversing the batch to pop it from the end had copied every event): its
        // place is left holding an event with nothing to release, for the array to dispose of.
        let vacated = Self.vacated
        batch.withUnsafeMutableBufferPointer { events in
            guard let first = events.baseAddress else { return }
            for index in events.indices {
                let event = (first + index).move()
                (first + index).initialize(to: vacated)
                if fresh[index] { admit(event) } else { counts.duplicates += 1 }
            }
        }
        batch.removeAll(keepingCapacity: true)
        swap(&batch, &arrived)
        swap(&fresh, &freshIDs)
    }

    mutating func admit(_ event: consuming SecurityEvent) {
        counts.events += 1
        let at = event.at.timeIntervalSince1970
        // Jitter of a few minutes is normal; "late" means well behind what was already read.
        if at < newest - 600 { counts.late += 1 } else if at > newest { newest = at }
        // An event no rule reads still counts and moves the clock on, but need not wait to reach the rules in order
        // (in real audit logs, most entries).
        if reads(event.action) {
            if at < released || (at == released && event.eventID < releasedID) { outOfOrder = true }
            pending.insert(event)
            // Far from in order (a newest-first export): inserting each event at the front would be quadratic, and
            // the sorted pass will be needed anyway.
            if pending.isThrashing { outOfOrder = true }
        }
        if pending.release(before: newest - Self.reorderHorizon) { noteReleased() }
        if pending.released >= Self.batchSize { flush() }
    }

    /// Whether some rule reads `action`, remembered for the few actions a file holds: the scanner hands out the same
    /// literal for a common action, which compares equal by its bits, so most events cost no hashing here.
    mutating func reads(_ action: String) -> Bool {
        guard let actionsRead else { return true }
        let count = action.utf8.count
        for known in actionsSeen where known.action.utf8.count == count && known.action == action { return known.read }
        let read = actionsRead.contains(action)
        if actionsSeen.count < 16 { actionsSeen.append((action, read)) }
        return read
    }

    mutating func noteReleased() {
        guard pending.released > 0 else { return }
        // The time and id only, read in place: copying the whole event (seventeen fields) per release showed up.
        released = pending.lastReleasedAt
        releasedID = pending.lastReleasedID
    }

    /// Hands every waiting event on, in order (at the end of the file).
    mutating func releaseAll() {
        pending.releaseAll()
        noteReleased()
    }

    mutating func endPoll() {
        guard !poll.isEmpty else { return }
        let reports = poll
        poll.removeAll()
        track(reports)
    }

    mutating func track(_ reports: [UplinkReport]) {
        let newest = reports.compactMap(\.lastReportedAt).max() ?? Date(timeIntervalSince1970: 0)
        if newest.timeIntervalSince1970 < lastPollAt { outOfOrder = true }
        lastPollAt = max(lastPollAt, newest.timeIntervalSince1970)
        let events = tracker.track(reports, now: newest, memory: &uplinks)
        if events.isEmpty { counts.ignored += 1 }
        for event in events { add(event) }
    }

    mutating func flush() {
        guard pending.released > 0 else { return }
        guard let engine else { return pending.dropReleased() }
        let outcome = engine.process(pending.releasedEvents, state: &state, recordCounts: false)
        pending.dropReleased()
        for detection in outcome.detections {
            counts.detections += 1
            counts.detectionsByRule[detection.detection, default: 0] += 1
            emit(detection)
        }
    }

    /// Which source reads this record, if any.
    func recognise(_ record: UnsafeBufferPointer<UInt8>) -> SecurityEvent.Source? {
        if AuditLineScanner.event(record) != nil { return .slackAudit }
        guard let first = record.first(where: { !ReplayText.isSpace($0) }) else { return nil }
        if first == 0x7b || first == 0x5b { return Self.uplinkReports(record) != nil ? .merakiUplinks : nil }
        return (try? syslog.parse(record, receivedAt: Date())) != nil ? .syslog : nil
    }

    /// A list of appliance uplink statuses, or one (`single`: only one), as the tracker reads them: by the byte
    /// scanner, or by the full reader for what the scanner leaves to it (escapes, non-ASCII text).
    static func uplinkReports(_ record: UnsafeBufferPointer<UInt8>, single: Bool = false) -> [UplinkReport]? {
        switch UplinkStatusScanner.scan(record, single: single) {
        case .reports(let reports): return reports
        case .notStatuses: return nil
        case .unsupported: return slowUplinkReports(record, single: single)
        }
    }

    /// The full reader: `MerakiUplinkStatus` from a parsed tree.
    static func slowUplinkReports(_ record: UnsafeBufferPointer<UInt8>, single: Bool = false) -> [UplinkReport]? {
        if single {
            guard let json = JSONValue.parse(record), let status = MerakiUplinkStatus(json: json) else { return nil }
            return [UplinkReport(status)]
        }
        return MerakiUplinkStatus.list(from: record)?.map(UplinkReport.init)
    }
}
