import Foundation
import SentryCore
import SentryDetect
import SentryTestSupport
import SentryTesting
import Testing

/// Audit log entries against the samples in `../shared/specs/slack/samples/audit_logs`.
@Suite struct SlackAuditEntryTests {
    @Test func theDocsExampleDecodesWithItsPlaceholderIPDropped() throws {
        let json = try #require(JSONValue.parse(try SlackAuditFixtures.sample("entry.user_login.slack_docs_example.json")))
        // The session id is a JSON string here.
        #expect(json["context"]?["session_id"] == "847288190092")
        let event = try #require(SlackAuditEntry.event(from: json))
        #expect(
            event
                == SecurityEvent(
                    source: .slackAudit, id: "0123a45b-6c7d-8900-e12f-3456789gh0i1", at: Date(timeIntervalSince1970: 1_521_214_343),
                    action: "user_login", userID: "W123AB456"))
        // `1.23.45.678` is not an address.
        #expect(event.ip == nil)
    }

    @Test func theSDKFixturePageDecodesWithNumericSessionIDs() throws {
        let bytes = try SlackAuditFixtures.sample("logs_response.python_sdk_fixture.json")
        #expect(JSONValue.parse(bytes)?["entries"]?.arrayValue?.first?["context"]?["session_id"] == .number(1_656_410_836_837))
        let page = try #require(SlackAuditEntry.decodePage(bytes))
        #expect(page.malformed == 0)
        #expect(page.nextCursor == "xxx")
        #expect(page.events.map(\.id) == ["xxx-yyy-zzz-111", "32c68de4-cbfa-4fcb-9780-25fdd5aacf32"])
        for event in page.events {
            #expect(event.source == .slackAudit)
            #expect(event.action == "user_login")
            #expect(event.userID == "W111")
            #expect(event.ip == "1.2.3.4")
            #expect(event.at == Date(timeIntervalSince1970: 1_611_221_649))
            #expect(event.fileID == nil && event.channelID == nil && event.reason == nil)
        }
    }

    @Test func theAllFieldsShapeIsOneMalformedEntryWithNoCursor() throws {
        // Placeholders only: an empty id and action make the entry unusable, and nothing traps on the rest
        // (`reason: {}`, empty lists, `date_create: 123`).
        let page = try #require(SlackAuditEntry.decodePage(try SlackAuditFixtures.sample("logs_response.all_fields.shape.json")))
        #expect(page.events.isEmpty)
        #expect(page.malformed == 1)
        #expect(page.nextCursor == nil)
    }

    @Test func theCollectorsActionsAreNamesSlackLists() throws {
        let json = try #require(JSONValue.parse(try SlackAuditFixtures.sample("actions.raw_api_response.json")))
        let known = Set((json["actions"]?.objectValue ?? [:]).values.flatMap { $0.arrayValue ?? [] }.compactMap(\.stringValue))
        #expect(known.count > 100)
        for action in SlackAuditCollector.detectionActions {
            #expect(known.contains(action), "\(action) is not an Audit Logs action")
        }
    }

    @Test func fileChannelAndIPv6AreRead() throws {
        let entry = AuditLogsSimulator.entry(
            id: "e1", action: "file_downloaded", at: 1_795_000_000, user: "W0BOB0001", ip: "2001:DB8:0:0:0:0:0:1",
            file: (id: "F0PAYROLL", name: "payroll.xlsx"), channel: "C0FINANCE")
        let event = try #require(SlackAuditEntry.event(from: entry))
        #expect(event.userID == "W0BOB0001")
        #expect(event.fileID == "F0PAYROLL")
        #expect(event.fileName == "payroll.xlsx")
        #expect(event.channelID == "C0FINANCE")
        // Canonical text, so one address groups as one.
        #expect(event.ip == "2001:db8::1")
    }

    @Test func aFileWithOnlyATitleAndAChannelInDetailsAreRead() throws {
        let entry: JSONValue = [
            "id": "e2", "date_create": "1795000000", "action": "file_public_link_created",
            "actor": ["type": "user", "user": ["id": "W1"]],
            "entity": ["type": "file", "file": ["id": "F1", "name": "", "title": "Q3 board deck"]],
            "details": ["channel_id": "C0DETAILS"],
        ]
        let event = try #require(SlackAuditEntry.event(from: entry))
        #expect(event.fileName == "Q3 board deck")
        #expect(event.channelID == "C0DETAILS")
        #expect(event.at == Date(timeIntervalSince1970: 1_795_000_000))
    }

    static let reasons: [(JSONValue, String)] = [
        (.string("unexpected_credential_testing"), "unexpected_credential_testing"),
        (.array(["unexpected_credential_testing", "tor_exit_node"]), "unexpected_credential_testing,tor_exit_node"),
        (.array(["", .number(3), "session_fingerprint"]), "session_fingerprint"),
    ]

    @Test(arguments: reasons)
    func anomalyReasonsAreAStringOrAList(reason: JSONValue, expected: String) throws {
        let entry = AuditLogsSimulator.entry(id: "a1", action: "anomaly", at: 1_795_000_000, details: ["reason": reason])
        #expect(SlackAuditEntry.event(from: entry)?.reason == expected)
    }

    @Test(arguments: [JSONValue.object([:]), .array([]), .number(1), .null])
    func otherReasonShapesAreNoReason(reason: JSONValue) throws {
        let entry = AuditLogsSimulator.entry(id: "a1", action: "anomaly", at: 1_795_000_000, details: ["reason": reason])
        let event = try #require(SlackAuditEntry.event(from: entry))
        #expect(event.reason == nil)
    }

    static let unusable: [JSONValue] = [
        ["action": "user_login", "date_create": 1_795_000_000],
        ["id": "x", "date_create": 1_795_000_000],
        ["id": "x", "action": "user_login"],
        ["id": "x", "action": "user_login", "date_create": "yesterday"],
        ["id": "x", "action": "user_login", "date_create": -5],
        ["id": 7, "action": "user_login", "date_create": 1_795_000_000],
        ["id": "", "action": "user_login", "date_create": 1_795_000_000],
        "not an entry",
        .null,
    ]

    @Test(arguments: unusable)
    func entriesWithoutIDActionOrDateAreRejected(entry: JSONValue) {
        #expect(SlackAuditEntry.event(from: entry) == nil)
    }

    @Test func oddlyShapedOptionalPartsAreNil() throws {
        let entry: JSONValue = [
            "id": "x", "action": "user_login_failed", "date_create": 1_795_000_000,
            "actor": "W1", "entity": ["file": "F1", "channel": ["id": 5]], "context": ["ip_address": .number(1), "session_id": .null],
            "details": "none",
        ]
        let event = try #require(SlackAuditEntry.event(from: entry))
        #expect(event.userID == nil && event.ip == nil && event.fileID == nil && event.channelID == nil && event.reason == nil)
    }

    @Test func aPageCountsMalformedEntries() throws {
        let body: JSONValue = [
            "ok": true,
            "entries": [
                AuditLogsSimulator.entry(id: "good1", action: "user_login_failed", at: 1_795_000_002),
                ["id": "no-date", "action": "user_login_failed"],
                "garbage",
                AuditLogsSimulator.entry(id: "good2", action: "user_login_failed", at: 1_795_000_001, sessionID: "abc"),
            ],
            "response_metadata": ["next_cursor": "dXNlcjpVMEc5V0ZYTlo="],
        ]
        let page = try #require(SlackAuditEntry.decodePage(Array(body.encoded().utf8)))
        #expect(page.events.map(\.id) == ["good1", "good2"])
        #expect(page.malformed == 2)
        #expect(page.nextCursor == "dXNlcjpVMEc5V0ZYTlo=")
    }

    @Test(arguments: [#"{"ok":false,"error":"invalid_auth"}"#, "not json", #"{"entries":{}}"#])
    func aBodyWithoutEntriesIsNoPage(body: String) {
        #expect(SlackAuditEntry.decodePage(Array(body.utf8)) == nil)
    }
}
