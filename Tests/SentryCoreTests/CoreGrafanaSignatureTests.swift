import Foundation
import SentryCore
import Testing

/// The test vectors of `../shared/specs/engines/README.md` ("Grafana HMAC").
@Suite struct CoreGrafanaSignatureTests {
    static let secret = "fake-grafana-hmac-secret-DO-NOT-USE"
    static let body = Array(#"{"receiver":"ir-slack-bot","status":"firing","orgId":1}"#.utf8)
    static let bodyOnly = "f2796a7eee3891f6f45e1016847c545d03ffbbd6b9de11538c19427812899df8"
    static let stamped = "17675b4b0eb9202990ff0e34babad883596abbd9843b386cda2a32cf123c7263"
    let grafana = GrafanaSignature(secret: secret)

    @Test func vectors() {
        #expect(grafana.sign(timestamp: nil, body: Self.body) == Self.bodyOnly)
        #expect(grafana.sign(timestamp: "1764493210", body: Self.body) == Self.stamped)
        #expect(grafana.verify(signature: Self.bodyOnly, timestamp: nil, body: Self.body, now: 0) == nil)
        #expect(grafana.verify(signature: Self.bodyOnly.uppercased(), timestamp: nil, body: Self.body, now: 0) == nil)
        #expect(grafana.verify(signature: Self.stamped, timestamp: "1764493210", body: Self.body, now: 1_764_493_210) == nil)
    }

    @Test func timestampWithin300Seconds() {
        let verify = { (now: Int64) in grafana.verify(signature: Self.stamped, timestamp: "1764493210", body: Self.body, now: now) }
        #expect(verify(1_764_493_210 + 300) == nil)
        #expect(verify(1_764_493_210 - 300) == nil)
        #expect(verify(1_764_493_210 + 301) == .staleTimestamp)
        #expect(verify(1_764_493_210 - 301) == .futureTimestamp)
    }

    @Test func refusals() {
        #expect(grafana.verify(signature: Self.bodyOnly, timestamp: "1764493210", body: Self.body, now: 1_764_493_210) == .signatureMismatch)
        #expect(grafana.verify(signature: Self.stamped, timestamp: nil, body: Self.body, now: 0) == .signatureMismatch)
        #expect(grafana.verify(signature: "sha256=" + Self.bodyOnly, timestamp: nil, body: Self.body, now: 0) == .malformedSignature)
        #expect(grafana.verify(signature: String(Self.bodyOnly.dropLast()), timestamp: nil, body: Self.body, now: 0) == .malformedSignature)
        #expect(grafana.verify(signature: Self.bodyOnly, timestamp: "soon", body: Self.body, now: 0) == .malformedTimestamp)
        #expect(grafana.verify(signature: Self.bodyOnly, timestamp: "", body: Self.body, now: 0) == .malformedTimestamp)
        var tampered = Self.body
        tampered[2] ^= 1
        #expect(grafana.verify(signature: Self.bodyOnly, timestamp: nil, body: tampered, now: 0) == .signatureMismatch)
        #expect(GrafanaSignature(secret: "other").verify(signature: Self.bodyOnly, timestamp: nil, body: Self.body, now: 0) == .signatureMismatch)
    }
}
