import Foundation
import SentryCore
import SentryTestSupport
import Testing

/// `Alert.storedJSON()` writes every stored alert body field by field: it must read back as the alert, be the same
/// document `StreamingJSONEncoder` (and so `Codable`) writes, and write every stored property of the types it writes
/// by hand, so that a field added to `Alert` later is not silently dropped from the stores. `AlertEffect.storedJSON()`
/// likewise, for every effect.
@Suite struct CoreAlertStoredJSONTests {
    typealias F = CoreFixtures
    typealias Streaming = CoreStreamingJSONEncoderTests

    /// Reads back as itself and is the streaming encoder's document (object keys in any order).
    static func expectSameDocument(_ alert: Alert, _ comment: Comment? = nil) throws {
        let ours = try alert.storedJSON()
        #expect(try Streaming.decoded(Alert.self, ours) == alert, comment)
        let theirs = try StreamingJSONEncoder.encode(alert)
        let parsed = try #require(JSONValue.parse(ours), "not JSON: \(Streaming.text(ours))")
        #expect(parsed == JSONValue.parse(theirs), "\(Streaming.text(ours)) vs \(Streaming.text(theirs))")
    }

    /// Every optional set, every nested type present.
    static func everythingSet() -> Alert {
        var alert = CoreConfirmTests.asked()
        alert.subject = Subject(
            slackUserID: "U0ALICE1", ip: "203.0.113.7", merakiNetworkID: "N_1", merakiSerial: "Q2XX-1", host: "vm-1", email: "a@example.com",
            account: "CONTOSO\\alice", rule: "panther.rule")
        alert.summary = "summary with \"quotes\"\nand a line"
        alert.evidence = .object(["n": 3, "list": [.number(1.5), "two", nil, true], "nested": ["k": "v"]])
        alert.acknowledgedBy = F.alice
        alert.acknowledgedAt = F.t0.addingTimeInterval(0.125)
        alert.closedBy = "U0BOB1"
        alert.closedAt = F.t0.addingTimeInterval(60)
        alert.message = MessageRef(channel: "C1", ts: "1700000000.000100")
        alert.postFailure = "channel_not_found"
        alert.policy = AlertPolicy(
            ackTimeout: 900, escalation: Escalation(mention: ["here", "S0SEC"], channel: "C2", repeatCount: 3),
            actions: [
                ContainmentAction(kind: .blockIP, approvals: 1, ttl: 3_600),
                ContainmentAction(
                    kind: .approvedOnly, approvals: 0, ttl: 600, approvedOnly: ApprovedOnlySettings(auto: true, cidrs: ["10.0.0.0/8"], groups: ["g"])),
            ],
            autoResolve: false, confirm: ConfirmSettings(timeout: 300, question: "Was it you?"))
        alert.containments = [
            Containment(
                id: "C-1", kind: .blockIP, target: "203.0.113.7", reason: "r", ttl: 3_600, requestedBy: "U0BOB1", requestedAt: F.t0,
                approvalsRequired: 1, approvals: [F.alice], status: .active, dryRun: false)
        ]
        alert.manual = true
        alert.link = "https://engine.example/alert/1"
        alert.snooze = Snooze(by: F.alice, reason: "maintenance", since: F.t0, until: F.t0.addingTimeInterval(600), suppressed: 2)
        alert.engineFiring = ["fp-1", "fp-2"]
        alert.engineResolution = EngineResolution(by: "Alertmanager", classification: "TruePositive", comment: "c", at: F.t0)
        alert.resolvedByEngine = "Alertmanager"
        return alert
    }

    static func labels(_ value: Any) -> Set<String> {
        Set(Mirror(reflecting: value).children.compactMap(\.label))
    }

    @Test(arguments: 0..<4) func randomAlertsAreTheStreamingEncodersDocument(seed: UInt64) throws {
        var rng = SplitMix64(seed: 0xA1E7_0000 + seed)
        for round in 0..<40 {
            try Self.expectSameDocument(CoreBlockKitLimitTests.randomAlert(&rng), "seed \(seed) round \(round)")
        }
    }

    @Test func anAlertWithEveryFieldSetIsTheStreamingEncodersDocument() throws {
        try Self.expectSameDocument(Self.everythingSet())
        try Self.expectSameDocument(F.alert(.open))
    }

    /// With no object of more than one key (whose order `Codable` leaves to the dictionary), the bytes are the same.
    @Test func withoutMultiKeyObjectsTheBytesAreTheStreamingEncoders() throws {
        var alert = Self.everythingSet()
        alert.evidence = .object(["only": .number(0.1)])
        #expect(Streaming.text(try alert.storedJSON()) == Streaming.text(try StreamingJSONEncoder.encode(alert)))
        alert.evidence = nil
        alert.containments = []
        #expect(Streaming.text(try alert.storedJSON()) == Streaming.text(try StreamingJSONEncoder.encode(alert)))
    }

    /// A property added to any type written by hand, and not to the writer, fails here.
    @Test func everyStoredPropertyIsWritten() throws {
        let alert = Self.everythingSet()
        guard case .object(let body)? = JSONValue.parse(try alert.storedJSON()) else {
            Issue.record("the body is not a JSON object")
            return
        }
        #expect(Set(body.keys) == Self.labels(alert))
        guard case .object(let policy)? = body["policy"], case .object(let escalation)? = policy["escalation"],
            case .array(let actions)? = policy["actions"], case .object(let action)? = actions.last, case .object(let message)? = body["message"],
            case .object(let subject)? = body["subject"]
        else {
            Issue.record("a nested member is missing: \(body)")
            return
        }
        #expect(Set(policy.keys) == Self.labels(alert.policy))
        #expect(Set(escalation.keys) == Self.labels(try #require(alert.policy.escalation)))
        #expect(Set(action.keys) == Self.labels(try #require(alert.policy.actions.last)))
        #expect(Set(message.keys) == Self.labels(try #require(alert.message)))
        #expect(Set(subject.keys) == Set(Subject.fieldNames))
        #expect(Subject.fieldNames.count == Self.labels(alert.subject).count)
    }

    /// The effects written by hand are byte for byte the streaming encoder's (their objects have fixed keys).
    @Test func everyEffectIsTheStreamingEncodersBytes() throws {
        for effect in Streaming.everyEffect {
            #expect(Streaming.text(try effect.storedJSON()) == Streaming.text(try StreamingJSONEncoder.encode(effect)), "\(effect)")
            #expect(try Streaming.decoded(AlertEffect.self, try effect.storedJSON()) == effect, "\(effect)")
        }
    }

    /// Evidence is kept as `JSONValue.encoded()` writes it: a number JSON cannot hold becomes null, and the alert is stored.
    @Test func evidenceThatIsNotFiniteIsStoredAsNull() throws {
        var alert = F.alert(.open)
        alert.evidence = .object(["ratio": .number(.nan), "kept": "yes"])
        let stored = try Streaming.decoded(Alert.self, try alert.storedJSON())
        #expect(stored.evidence == .object(["ratio": .null, "kept": "yes"]))
    }

    @Test(arguments: [Double.nan, .infinity]) func aDateThatIsNotFiniteThrows(seconds: Double) {
        var alert = F.alert(.open)
        alert.closedAt = Date(timeIntervalSince1970: seconds)
        #expect(throws: EncodingError.self) { try alert.storedJSON() }
    }
}
