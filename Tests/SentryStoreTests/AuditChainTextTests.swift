import Foundation
import SentryCore
import SentryStore
import SentryTestSupport
import Testing

/// Every stored chain was hashed over the entry's fields as a `JSONValue` object's `encoded()` text; the text now
/// written member by member must be that text exactly, or every chain already stored would fail `sentry audit verify`.
@Suite struct AuditChainTextTests {
    /// How the hashed text was built before: the object as a dictionary, encoded.
    static func reference(prev: String, seq: Int64, at: Date, alertID: String?, actor: String, action: String, detail: String) -> String {
        let fields: JSONValue = [
            "seq": .number(Double(seq)), "at_ms": .number((at.timeIntervalSince1970 * 1000).rounded()),
            "alert_id": alertID.map(JSONValue.string) ?? .null, "actor": .string(actor), "action": .string(action), "detail": .string(detail),
        ]
        return Crypto.hex(Crypto.sha256(Array((prev + "\n" + fields.encoded()).utf8)))
    }

    @Test(arguments: 0..<4) func theHashIsTheDictionarysHash(seed: UInt64) {
        var rng = SplitMix64(seed: 0xA0D1_7000 + seed)
        let pieces = ["a", "é", "\"", "\\", "\n", "\u{1}", "💥", "U0ALICE1", " ", "/", "e\u{301}", "</script>"]
        func text(_ count: Int) -> String { (0..<Int.random(in: 0...count, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined() }
        var prev = AuditChain.genesis
        for round in 0..<200 {
            let seq = Int64.random(in: 1...Int64(1) << 52, using: &rng)
            let at = Date(timeIntervalSince1970: Double.random(in: 0...4_000_000_000, using: &rng))
            let alertID = Bool.random(using: &rng) ? "A-\(text(6))" : nil
            let (actor, action, detail) = (text(8), text(4), text(40))
            let ours = AuditChain.hash(prev: prev, seq: seq, at: at, alertID: alertID, actor: actor, action: action, detail: detail)
            #expect(
                ours == Self.reference(prev: prev, seq: seq, at: at, alertID: alertID, actor: actor, action: action, detail: detail),
                "seed \(seed) round \(round)")
            prev = ours
        }
    }

    /// Hashes pinned from outside this code: the first two entries a `sentry serve` of `2f9a705` (before the text
    /// was written member by member) stored under the webhook benchmark, and an entry with no alert, quotes and
    /// non-ASCII text hashed by Python (`hashlib.sha256` over `json.dumps(sort_keys=True, separators=(",", ":"),
    /// ensure_ascii=False)`, which agrees with the two stored ones). A change to how strings or numbers are written
    /// would leave the reference test above green and every stored chain broken; this one would fail.
    @Test func pinnedHashesStillMatch() {
        let first = AuditChain.hash(
            prev: AuditChain.genesis, seq: 1, at: Date(timeIntervalSince1970: 1_796_415_494.748), alertID: "A-BCJKATXC",
            actor: "detection:bench-warm-2-1", action: "alert.created",
            detail: "slack.failed_logins_by_ip high ip=10.2.0.1 playbook=slack-failed-logins-by-ip")
        #expect(first == "58542b557da1d6796735803de8172367a9019fe16030ac7684bfb6e527851e43")
        let second = AuditChain.hash(
            prev: first, seq: 2, at: Date(timeIntervalSince1970: 1_796_415_494.748), alertID: "A-BED1B77E",
            actor: "detection:bench-warm-2-2", action: "alert.created",
            detail: "slack.failed_logins_by_ip high ip=10.2.0.2 playbook=slack-failed-logins-by-ip")
        #expect(second == "470bff992dea38a32b5abec38c9cabf8b16b20acfbad793c9b00d7a887dd604c")
        let noAlert = AuditChain.hash(
            prev: AuditChain.genesis, seq: 7, at: Date(timeIntervalSince1970: 1_700_000_000.1234), alertID: nil, actor: "U0ALICE1",
            action: "containment.requested", detail: "block \"203.0.113.7\" — für 4 h")
        #expect(noAlert == "f0cc5fde836e412c267e541ebff5b290fef8002d3c33edae75feff99172f6ab2")
    }
}
