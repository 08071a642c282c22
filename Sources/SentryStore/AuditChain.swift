import Foundation
import SentryCore

/// The audit log's hash chain: each entry's hash covers the previous entry's hash and its own fields.
public enum AuditChain {
    public static let genesis = String(repeating: "0", count: 64)

    public static func hash(prev: String, seq: Int64, at: Date, alertID: String?, actor: String, action: String, detail: String) -> String {
        Crypto.hex(Crypto.sha256(hashedText(prev: prev, seq: seq, at: at, alertID: alertID, actor: actor, action: action, detail: detail)))
    }

    /// What an entry's hash covers: the previous hash, a newline, and the entry's fields as the JSON object
    /// `JSONValue.encoded()` writes (keys in byte order; `seq` and `at_ms` as integers, a missing alert as null).
    /// Written member by member: building the object as a `JSONValue` dictionary first cost a tenth of an append.
    static func hashedText(prev: String, seq: Int64, at: Date, alertID: String?, actor: String, action: String, detail: String) -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(prev.utf8.count + detail.utf8.count + 160)
        text.append(contentsOf: prev.utf8)
        text.append(UInt8(ascii: "\n"))
        text.append(contentsOf: #"{"action":"#.utf8)
        JSONValue.string(action).write(into: &text)
        text.append(contentsOf: #","actor":"#.utf8)
        JSONValue.string(actor).write(into: &text)
        text.append(contentsOf: #","alert_id":"#.utf8)
        (alertID.map(JSONValue.string) ?? .null).write(into: &text)
        text.append(contentsOf: #","at_ms":"#.utf8)
        JSONValue.number((at.timeIntervalSince1970 * 1000).rounded()).write(into: &text)
        text.append(contentsOf: #","detail":"#.utf8)
        JSONValue.string(detail).write(into: &text)
        text.append(contentsOf: #","seq":"#.utf8)
        JSONValue.number(Double(seq)).write(into: &text)
        text.append(UInt8(ascii: "}"))
        return text
    }

    /// The entry that follows `last` (nil: the chain is empty): its number, its link to the one before, its time at
    /// the millisecond precision the hash covers (so a store keeps exactly what was hashed), and its hash. Every
    /// store appends with this and only writes the result.
    public static func next(after last: (seq: Int64, hash: String)?, _ record: AuditRecord, alertID: String?, at: Date) -> AuditEntry {
        let seq = (last?.seq ?? 0) + 1
        let prev = last?.hash ?? genesis
        let stamp = Date(timeIntervalSince1970: (at.timeIntervalSince1970 * 1000).rounded() / 1000)
        return AuditEntry(
            seq: seq, at: stamp, alertID: alertID, actor: record.actor, action: record.action, detail: record.detail, prevHash: prev,
            hash: hash(prev: prev, seq: seq, at: stamp, alertID: alertID, actor: record.actor, action: record.action, detail: record.detail))
    }

    /// What `sentry audit verify` reports.
    public enum Verdict: Equatable, Sendable, CustomStringConvertible {
        case intact(entries: Int)
        case broken(seq: Int64, reason: String)

        public var description: String {
            switch self {
            case .intact(let entries): "audit chain intact: \(entries) entries"
            case .broken(let seq, let reason): "audit chain broken at entry \(seq): \(reason)"
            }
        }
    }

    /// Checks a chain in order of `seq`: gaps (removed entries), changed fields, inserted or reordered entries.
    public static func verify(_ entries: [AuditEntry]) -> Verdict {
        var prev = genesis
        var expectedSeq: Int64? = nil
        for entry in entries {
            if let expectedSeq, entry.seq != expectedSeq {
                return .broken(seq: entry.seq, reason: "expected entry \(expectedSeq) next; entries are missing or reordered")
            }
            if entry.prevHash != prev {
                return .broken(seq: entry.seq, reason: "does not follow the entry before it (removed, inserted or reordered)")
            }
            let computed = hash(
                prev: prev, seq: entry.seq, at: entry.at, alertID: entry.alertID, actor: entry.actor, action: entry.action, detail: entry.detail)
            if computed != entry.hash {
                return .broken(seq: entry.seq, reason: "contents changed after it was written")
            }
            prev = entry.hash
            expectedSeq = entry.seq + 1
        }
        return .intact(entries: entries.count)
    }
}
