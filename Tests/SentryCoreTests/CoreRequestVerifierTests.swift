import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// Slack's published signing example, read from `../shared/specs`.
private struct SlackSigningVector {
    let secret: String
    let timestamp: String
    let signature: String
    let body: [UInt8]
    let basestring: String
    let now: Int64

    static func load() throws -> SlackSigningVector {
        let bytes = try CoreFixtures.sharedBytes("specs/slack/samples/signing/signature_test_vector.slack_docs_example.json")
        let json = try #require(JSONValue.parse(bytes))
        return SlackSigningVector(
            secret: try #require(json["signing_secret"]?.stringValue),
            timestamp: try #require(json["headers"]?["X-Slack-Request-Timestamp"]?.stringValue),
            signature: try #require(json["headers"]?["X-Slack-Signature"]?.stringValue),
            body: Array(try #require(json["raw_body"]?.stringValue).utf8),
            basestring: try #require(json["basestring"]?.stringValue),
            now: Int64(try #require(json["verify_with_now_epoch_seconds"]?.numberValue)))
    }

    var verifier: RequestVerifier { RequestVerifier(secret: secret) }

    func verify(timestamp: String?? = .none, signature: String?? = .none, body: [UInt8]? = nil, now: Int64? = nil)
        -> RequestVerifier.Failure?
    {
        let result = verifier.verify(
            timestamp: timestamp ?? self.timestamp, signature: signature ?? self.signature, body: body ?? self.body,
            now: now ?? self.now)
        switch result {
        case .success: return nil
        case .failure(let failure): return failure
        }
    }
}

@Suite struct CoreRequestVerifierTests {
    @Test func slacksPublishedVectorVerifies() throws {
        let vector = try SlackSigningVector.load()
        #expect(vector.signature.hasPrefix("v0="))
        #expect(vector.basestring == "v0:\(vector.timestamp):" + String(decoding: vector.body, as: UTF8.self))
        #expect(vector.verify() == nil)
    }

    @Test func signReproducesSlacksPublishedSignature() throws {
        let vector = try SlackSigningVector.load()
        #expect(vector.verifier.sign(timestamp: vector.timestamp, body: vector.body) == vector.signature)
    }

    @Test(arguments: [0, 57, -1])
    func oneChangedBodyByteIsAMismatch(position: Int) throws {
        let vector = try SlackSigningVector.load()
        var body = vector.body
        let index = position >= 0 ? position : body.count + position
        body[index] ^= 0x01
        #expect(vector.verify(body: body) == .signatureMismatch)
    }

    @Test func anAppendedByteOrATruncatedBodyIsAMismatch() throws {
        let vector = try SlackSigningVector.load()
        #expect(vector.verify(body: vector.body + [UInt8(ascii: "&")]) == .signatureMismatch)
        #expect(vector.verify(body: Array(vector.body.dropLast())) == .signatureMismatch)
        #expect(vector.verify(body: []) == .signatureMismatch)
    }

    @Test func anotherSecretIsAMismatch() throws {
        let vector = try SlackSigningVector.load()
        let result = RequestVerifier(secret: vector.secret + "x")
            .verify(timestamp: vector.timestamp, signature: vector.signature, body: vector.body, now: vector.now)
        #expect(throws: RequestVerifier.Failure.signatureMismatch) { try result.get() }
    }

    @Test func theTimestampIsPartOfTheSignature() throws {
        let vector = try SlackSigningVector.load()
        // One second later, still inside the window, but not what was signed.
        let later = String(Int64(vector.timestamp)! + 1)
        #expect(vector.verify(timestamp: later) == .signatureMismatch)
    }

    @Test func exactlyThreeHundredSecondsEitherWayIsAccepted() throws {
        let vector = try SlackSigningVector.load()
        #expect(vector.verify(now: vector.now + 300) == nil)
        #expect(vector.verify(now: vector.now - 300) == nil)
    }

    @Test func threeHundredAndOneSecondsOldIsStale() throws {
        let vector = try SlackSigningVector.load()
        #expect(vector.verify(now: vector.now + 301) == .staleTimestamp)
        #expect(vector.verify(now: vector.now + 86_400) == .staleTimestamp)
    }

    @Test func threeHundredAndOneSecondsAheadIsFuture() throws {
        let vector = try SlackSigningVector.load()
        #expect(vector.verify(now: vector.now - 301) == .futureTimestamp)
        #expect(vector.verify(now: 0) == .futureTimestamp)
    }

    @Test func aStaleTimestampIsRefusedEvenWithAValidSignature() throws {
        // A replayed request carries a genuine signature; only the clock stops it.
        let vector = try SlackSigningVector.load()
        let old = String(vector.now - 301)
        let signature = vector.verifier.sign(timestamp: old, body: vector.body)
        #expect(vector.verify(timestamp: old, signature: signature) == .staleTimestamp)
    }

    @Test(arguments: [String?.none, ""])
    func missingTimestamp(timestamp: String?) throws {
        let vector = try SlackSigningVector.load()
        #expect(vector.verify(timestamp: .some(timestamp)) == .missingTimestamp)
    }

    @Test(arguments: [
        "abc", "-1531420618", "+1531420618", "1531420618.5", " 1531420618", "1531420618 ", "1e9", "0x5b476c4a", "1531420618123456789", "１５３１４２０６１８",
    ])
    func malformedTimestamp(timestamp: String) throws {
        let vector = try SlackSigningVector.load()
        #expect(vector.verify(timestamp: .some(timestamp)) == .malformedTimestamp)
    }

    @Test(arguments: [String?.none, ""])
    func missingSignature(signature: String?) throws {
        let vector = try SlackSigningVector.load()
        #expect(vector.verify(signature: .some(signature)) == .missingSignature)
    }

    @Test(arguments: [
        "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",  // wrong version
        "a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",  // no prefix
        "v0:a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",  // wrong separator
        "v0=",  // nothing after the prefix
        "v0=g2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",  // not hex
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50 ",  // trailing space
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b5",  // 63 hex digits: odd length
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b",  // 31 bytes
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b50300",  // 33 bytes
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503,v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    ])
    func malformedSignature(signature: String) throws {
        let vector = try SlackSigningVector.load()
        #expect(vector.verify(signature: .some(signature)) == .malformedSignature)
    }

    @Test func aWellFormedWrongSignatureIsAMismatch() throws {
        let vector = try SlackSigningVector.load()
        let zeros = "v0=" + String(repeating: "0", count: 64)
        #expect(vector.verify(signature: .some(zeros)) == .signatureMismatch)
    }

    @Test(arguments: [
        ("secret", "1700000000", ""),
        ("another-secret", "1", "payload=%7B%22type%22%3A%22block_actions%22%7D"),
        ("ünïcode-sécret", "1700000000", "{\"id\":\"é\",\"n\":[1,2,3]}"),
    ])
    func signRoundTrips(secret: String, timestamp: String, body: String) {
        let verifier = RequestVerifier(secret: secret)
        let bytes = Array(body.utf8)
        let signature = verifier.sign(timestamp: timestamp, body: bytes)
        #expect(signature.hasPrefix("v0="))
        #expect(signature.utf8.count == 3 + 64)
        let now = Int64(timestamp)!
        #expect(throws: Never.self) { try verifier.verify(timestamp: timestamp, signature: signature, body: bytes, now: now).get() }
        #expect(throws: RequestVerifier.Failure.signatureMismatch) {
            try RequestVerifier(secret: secret + "!").verify(timestamp: timestamp, signature: signature, body: bytes, now: now).get()
        }
    }
}
