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
}
