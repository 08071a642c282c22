import Foundation
import SentryCore
import SentryTestSupport
import Testing

/// `StreamingJSONEncoder` writes every stored alert and effect; what it writes must read back, through the stores'
/// `JSONDecoder`, as the value it was given, and mean what Foundation's `JSONEncoder` (dates as seconds) writes.
@Suite struct CoreStreamingJSONEncoderTests {
    typealias F = CoreFixtures

    static func foundation<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        return Array(try encoder.encode(value))
    }

    static func decoded<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(type, from: Data(bytes))
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Reads back as itself, and is the same JSON document as Foundation's (keys in any order).
    static func expectRoundTrip<T: Codable & Equatable>(_ value: T, _ comment: Comment? = nil) throws {
        let ours = try StreamingJSONEncoder.encode(value)
        #expect(try decoded(T.self, ours) == value, comment)
        let theirs = try foundation(value)
        let parsedOurs = try #require(JSONValue.parse(ours), "not JSON: \(text(ours))")
        #expect(parsedOurs == JSONValue.parse(theirs), "\(text(ours)) vs \(text(theirs))")
    }

    @Test(arguments: 0..<4) func randomAlertsReadBackAsThemselves(seed: UInt64) throws {
        var rng = SplitMix64(seed: 0x0057_0AED + seed)
        for round in 0..<40 {
            var alert = CoreBlockKitLimitTests.randomAlert(&rng)
            if round % 3 == 0 {
                alert.snooze = Snooze(by: F.alice, reason: "maintenance", since: F.t0, until: F.t0.addingTimeInterval(600), suppressed: 2)
                alert.engineFiring = ["fp-1", "fp-2"]
                alert.message = MessageRef(channel: "C1", ts: "1700000000.000100")
                alert.acknowledgedAt = F.t0.addingTimeInterval(0.125)
            }
            try Self.expectRoundTrip(alert, "seed \(seed) round \(round)")
        }
    }

    @Test func anAlertWithAQuestionReadsBackAsItself() throws {
        try Self.expectRoundTrip(CoreConfirmTests.asked())
    }

    /// One of every effect, with and without its optional values.
    static let everyEffect: [AlertEffect] = [
        .postAlert, .updateMessage, .replyInThread(text: "line\nwith \"quotes\""), .postNotice(channel: "C2", text: "n"),
        .postReport(channel: "C3", text: "digest", blocks: [["type": "section", "n": .number(1.5), "ok": true, "none": nil]]),
        .tellUser(userID: "U1", text: "t", responseURL: nil), .tellUser(userID: "U1", text: "t", responseURL: "https://hooks.example/x"),
        .scheduleTimer(.ackTimeout, at: F.t0), .scheduleTimer(.containmentExpiry("C-1"), at: F.t0.addingTimeInterval(0.5)),
        .cancelTimer(.weeklyDigest("C9")), .executeContainment(id: "C-1"), .releaseContainment(id: "C-1"), .askSubject(userID: "U2"),
        .updateQuestion,
    ]

    @Test func everyEffectReadsBackAsItself() throws {
        for effect in Self.everyEffect { try Self.expectRoundTrip(effect, "\(effect)") }
        #expect(Self.text(try StreamingJSONEncoder.encode(AlertEffect.postAlert)) == #"{"postAlert":{}}"#)
        #expect(Self.text(try StreamingJSONEncoder.encode(AlertEffect.executeContainment(id: "C-1"))) == #"{"executeContainment":{"id":"C-1"}}"#)
    }

    struct Scalars: Codable, Equatable {
        var text: String
        var integer: Int
        var big: Int64
        var unsigned: UInt64
        var small: Int8
        var real: Double
        var single: Float
        var flag: Bool
        var missing: String?
        var present: Int?
        var list: [Int?]
        var nested: [[String]]
        var map: [String: Double]
        var when: Date
        var whens: [Date]
    }

    @Test func scalarsAreWrittenAsJSONValueWritesThem() throws {
        let value = Scalars(
            text: "quote \" backslash \\ slash / \n\t\u{01} Jürgen 🔥", integer: Int.min, big: Int64.max, unsigned: UInt64.max, small: -8,
            real: 0.1, single: 0.1, flag: false, missing: nil, present: 7, list: [1, nil, 3], nested: [[], ["a"]], map: ["k": 1e20],
            when: Date(timeIntervalSince1970: 1_700_000_000.5), whens: [Date(timeIntervalSince1970: 12)])
        try Self.expectRoundTrip(value)
        let text = Self.text(try StreamingJSONEncoder.encode(value))
        #expect(
            text == #"{"text":"quote \" backslash \\ slash / \n\t\u0001 Jürgen 🔥","integer":-9223372036854775808,"#
                + #""big":9223372036854775807,"unsigned":18446744073709551615,"small":-8,"real":0.1,"single":0.1,"flag":false,"#
                + #""present":7,"list":[1,null,3],"nested":[[],["a"]],"map":{"k":1e+20},"#
                + #""when":1700000000.5,"whens":[12]}"#)
        for number in CoreJSONValueTests.numbers {
            #expect(Self.text(try StreamingJSONEncoder.encode(number)) == JSONValue.number(number).encoded(), "\(number)")
        }
        #expect(Self.text(try StreamingJSONEncoder.encode("top")) == #""top""#)
        #expect(Self.text(try StreamingJSONEncoder.encode([String: Int]())) == "{}")
        #expect(Self.text(try StreamingJSONEncoder.encode([Int]())) == "[]")
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity]) func aNumberThatIsNotFiniteThrows(number: Double) {
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder.encode(["x": [number]]) }
        #expect(throws: EncodingError.self) { try StreamingJSONEncoder.encode(Date(timeIntervalSince1970: number)) }
    }

    /// An `encode(to:)` that writes nothing is an empty object; one that asks for its container twice writes one
    /// object; a super encoder's value goes under "super", `{}` when it writes nothing.
    struct Unusual: Encodable {
        enum Keys: String, CodingKey { case a, b, c, `super` }
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }

        func encode(to encoder: any Encoder) throws {
            var first = encoder.container(keyedBy: Keys.self)
            try first.encode(Nothing(), forKey: .a)
            var list = first.nestedUnkeyedContainer(forKey: .b)
            try list.encode(1)
            var inner = list.nestedContainer(keyedBy: Keys.self)
            try inner.encode("x", forKey: .a)
            try list.encode(2)
            var second = encoder.container(keyedBy: Keys.self)
            _ = second.superEncoder()
            try second.encode(true, forKey: .c)
        }
    }

    @Test func unusualEncodersStillWriteOneDocument() throws {
        let text = Self.text(try StreamingJSONEncoder.encode(Unusual()))
        #expect(text == #"{"a":{},"b":[1,{"a":"x"},2],"super":{},"c":true}"#)
        #expect(JSONValue.parse(Array(text.utf8)) != nil)
        #expect(Self.text(try StreamingJSONEncoder.encode([Unusual.Nothing()])) == "[{}]")
    }
}
