import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// Seeded random mutations of every engine sample, bytes and JSON, through every adapter: never a crash, always
/// either an intake whose detections the detection webhook accepts as they are, or an error that says what is wrong.
@Suite struct IntakeMutationTests {
    /// SplitMix64: the same seed gives the same mutations on every machine.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { n <= 0 ? 0 : Int(next() % UInt64(n)) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    static let mutationsPerSample = 250

    /// Values that break types, bounds and shapes.
    static let replacements: [JSONValue] = [
        .null, true, 0, -1, .number(1e300), .number(0.5), "", " ", "\u{0}", "x", "203.0.113.7:99999", "[::1]:1", "a@b.c",
        .string(String(repeating: "é", count: 3_000)), "javascript:alert(1)", .string("https://example.com/" + String(repeating: "a", count: 50)),
        [], [nil], ["a", 1], [:], ["k": "v"], ["alertname": ["x"]], "Resolved", "resolved", "Closed", "Sev0", "CRITICAL",
    ]

    static func mutateBytes(_ bytes: [UInt8], _ random: inout Random) -> [UInt8] {
        var out = bytes
        for _ in 0...random.below(4) {
            guard !out.isEmpty else { break }
            let at = random.below(out.count)
            switch random.below(5) {
            case 0: out[at] ^= UInt8(1 << random.below(8))
            case 1: out.insert(random.pick([UInt8(ascii: "{"), UInt8(ascii: "\""), UInt8(ascii: ","), 0x00, 0xFF, UInt8(ascii: "\\")]), at: at)
            case 2: out.remove(at: at)
            case 3: out = Array(out.prefix(at))
            default: out[at] = UInt8(truncatingIfNeeded: random.next())
            }
        }
        return out
    }

    /// Every path (keys and indexes) in a value, with the value itself first.
    static func paths(_ value: JSONValue, _ prefix: [String] = []) -> [[String]] {
        var out = [prefix]
        switch value {
        case .object(let object): for key in object.keys.sorted() { out += paths(object[key]!, prefix + [key]) }
        case .array(let array): for (index, item) in array.enumerated() { out += paths(item, prefix + [String(index)]) }
        default: break
        }
        return out
    }

    static func mutateJSON(_ value: JSONValue, _ random: inout Random) -> JSONValue {
        var current = value
        for _ in 0...random.below(3) {
            let all = paths(current)
            let path = random.pick(all)
            switch random.below(4) {
            case 0: current = IntakeBadInputTests.edit(current, path[...], random.pick(replacements)) ?? current
            case 1 where !path.isEmpty: current = IntakeBadInputTests.edit(current, path[...], nil) ?? current
            case 2:
                // Another node's value here: shapes of the right kind in the wrong place.
                let other = random.pick(all)
                if let value = lookup(current, other[...]) { current = IntakeBadInputTests.edit(current, path[...], value) ?? current }
            default:
                // Unknown keys beside the known ones.
                if case .object = lookup(current, path[...]) {
                    current = IntakeBadInputTests.edit(current, path[...] + ["x-extra"], random.pick(replacements)) ?? current
                }
            }
        }
        return current
    }

    static func lookup(_ value: JSONValue, _ path: ArraySlice<String>) -> JSONValue? {
        guard let key = path.first else { return value }
        switch value {
        case .object(let object): return object[key].flatMap { lookup($0, path.dropFirst()) }
        case .array(let array): return Int(key).flatMap { array.indices.contains($0) ? lookup(array[$0], path.dropFirst()) : nil }
        default: return nil
        }
    }

    /// What must hold for any body and any adapter.
    static func check(_ adapter: any EngineAdapter.Type, _ body: [UInt8]) -> Bool {
        switch IntakeFixtures.decode(adapter, body) {
        case .failure(let error):
            #expect(!error.description.isEmpty)
            if let path = error.path { #expect(!path.isEmpty, "\(error)") }
            return false
        case .success(let intake):
            #expect(!intake.detections.isEmpty)
            // No hidden state and no dictionary order: the same body gives the same intake.
            #expect((try? IntakeFixtures.decode(adapter, body).get()) == intake)
            for item in intake.detections {
                let detection = item.detection
                #expect(detection.detection.hasPrefix(adapter.engine.detectionPrefix + "."))
                #expect(IntakeFixtures.throughWebhook(detection) == detection, "\(adapter.engine.id): \(detection.id.prefix(80))")
                if let link = detection.link { #expect(IntakeText.link(link) == link) }
                if let first = item.fields.keys.sorted().first {
                    let overridden = item.applying(subjectFrom: Dictionary(uniqueKeysWithValues: SubjectValue.overridableFields.map { ($0, first) }))
                    #expect(IntakeFixtures.throughWebhook(overridden) == overridden)
                }
            }
            return true
        }
    }

    @Test(arguments: try IntakeFixtures.sampleFiles())
    func mutatedSamplesNeverCrashAnyAdapter(_ sample: String) throws {
        let bytes = try IntakeFixtures.body(sample)
        let json = try #require(JSONValue.parse(bytes))
        let own = try #require(IntakeFixtures.adapter(sample))
        var random = Random(state: UInt64(truncatingIfNeeded: sample.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }))
        var decoded = 0
        for round in 0..<Self.mutationsPerSample {
            let body =
                round % 2 == 0
                ? Self.mutateBytes(bytes, &random)
                : Array(Self.mutateJSON(json, &random).encoded().utf8)
            for adapter in EngineRegistry.adapters {
                if Self.check(adapter, body), adapter.engine == own.engine { decoded += 1 }
            }
        }
        // The JSON mutations keep many bodies readable: the decoding path is exercised, not only the refusals.
        #expect(decoded > Self.mutationsPerSample / 10, "\(sample): only \(decoded) mutated bodies decoded")
    }
}
