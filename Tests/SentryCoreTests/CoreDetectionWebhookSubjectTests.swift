import Foundation
import Testing

@testable import SentryCore

/// The subject fields engines brought (`host`, `email`, `account`, `rule`), also on `POST /hooks/detections`.
@Suite struct CoreDetectionWebhookSubjectTests {
    func decode(_ subject: String) -> Result<Detection, DetectionInputError> {
        do throws(DetectionInputError) {
            return .success(try Detection.decodeWebhook(Array(#"{"id":"x","detection":"d","subject":\#(subject)}"#.utf8)))
        } catch {
            return .failure(error)
        }
    }

    @Test func newFieldsDecodeInCanonicalForm() throws {
        let detection = try decode(#"{"host":"VM-Web-01.Example.com.","email":"Alice@Example.COM","account":" CONTOSO\\alice ","rule":"panther.x"}"#)
            .get()
        #expect(detection.subject == Subject(host: "vm-web-01.example.com", email: "alice@example.com", account: "CONTOSO\\alice", rule: "panther.x"))
        // Any one of them is a subject.
        #expect(try decode(#"{"account":"bob"}"#).get().subject == Subject(account: "bob"))
    }

    static let bad: [(String, String)] = [
        (#"{"host":"a b"}"#, "subject.host"),
        (#"{"host":"a..b"}"#, "subject.host"),
        (#"{"host":7}"#, "subject.host"),
        (#"{"email":"alice"}"#, "subject.email"),
        (#"{"email":"a@b"}"#, "subject.email"),
        (#"{"account":""}"#, "subject.account"),
        ("{\"account\":\"\(String(repeating: "a", count: 129))\"}", "subject.account"),
        (#"{"rule":"Panther.X"}"#, "subject.rule"),
        (#"{"rule":"a*"}"#, "subject.rule"),
    ]

    @Test(arguments: bad.indices)
    func badFieldIsNamed(_ index: Int) {
        let (subject, field) = Self.bad[index]
        guard case .failure(let error) = decode(subject) else {
            Issue.record("accepted \(subject)")
            return
        }
        #expect(error.field == field)
    }
}
