import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// Form bodies and the Slack payloads inside them, against the samples in `../shared/specs/slack/samples`.
@Suite struct CoreFormBodyTests {
    private func parse(_ body: String) throws(FormBody.Malformed) -> [String: String] {
        try FormBody.parse(Array(body.utf8))
    }

    @Test func plusAndPercent20AreBothSpaces() throws {
        #expect(try parse("text=block-ip+203.0.113.7+4h&other=a%20b%20c") == ["text": "block-ip 203.0.113.7 4h", "other": "a b c"])
    }

    @Test func escapedReservedCharactersDecodeLiterally() throws {
        #expect(try parse("a=%2B%26%3D%25&b=%2fx%2F") == ["a": "+&=%", "b": "/x/"])
    }

    @Test func multiByteUTF8Decodes() throws {
        #expect(try parse("name=J%C3%BCrgen+%F0%9F%94%A5") == ["name": "Jürgen 🔥"])
    }

    @Test func emptyValuesAndBareNamesAreEmptyStrings() throws {
        #expect(try parse("text=&flag&x=1") == ["text": "", "flag": "", "x": "1"])
        #expect(try parse("") == [:])
        #expect(try parse("a=b=c&&d=1&") == ["a": "b=c", "d": "1"])
    }

    @Test(arguments: ["a=%", "a=%4", "a=%zz", "a=%4g", "a=%g4", "a=1%", "%=x", "a=%%41", "a=%-1"])
    func badPercentEscapesAreRefused(body: String) {
        #expect(throws: FormBody.Malformed.self) { try parse(body) }
    }

    @Test(arguments: ["a=%FF", "a=%C3%28", "a=%C3", "%FF=x", "a=%ED%A0%80"])
    func nonUTF8IsRefused(body: String) {
        #expect(throws: FormBody.Malformed.self) { try parse(body) }
    }

    @Test func rawNonUTF8BytesAreRefused() {
        #expect(throws: FormBody.Malformed.self) { try FormBody.parse([UInt8(ascii: "a"), UInt8(ascii: "="), 0xC0, 0xAF]) }
    }

    @Test func anEmptyNameIsRefused() {
        #expect(throws: FormBody.Malformed.self) { try parse("=value") }
    }

    @Test func encodeThenParseRoundTrips() throws {
        let fields = [("payload", #"{"a":"b c","d":"e&f=g+h%"}"#), ("text", "block-ip 203.0.113.7 4h"), ("name", "Jürgen 🔥~._-")]
        let encoded = FormBody.encode(fields)
        #expect(!encoded.contains(" "))
        #expect(!encoded.contains("+"))
        let parsed = try FormBody.parse(Array(encoded.utf8))
        #expect(parsed == Dictionary(uniqueKeysWithValues: fields))
    }

    // MARK: Slack samples

    static let blockActionsSample = "specs/slack/samples/interactivity/block_actions.bolt_python_fixture.form-urlencoded.txt"

    private func expectBoltBlockActions(_ body: [UInt8]) throws {
        let form = try FormBody.parse(body)
        let payload = try InteractionPayload.decode(form: form)
        guard case .blockActions(let actions) = payload else {
            Issue.record("expected blockActions, got \(payload)")
            return
        }
        #expect(actions.userID == "W111")
        #expect(actions.actionID == "a")
        #expect(actions.value == "click_me_123")
        #expect(actions.channelID == "C111")
        #expect(actions.messageTS == "111.222")
        #expect(actions.triggerID == "111.222.valid")
        #expect(actions.responseURL == "https://hooks.slack.com/actions/T111/111/random-value")
    }

    @Test func boltBlockActionsFixtureDecodes() throws {
        try expectBoltBlockActions(try CoreFixtures.sharedBody(Self.blockActionsSample))
    }

    @Test func boltBlockActionsFixtureDecodesWithPlusForSpaces() throws {
        // Slack's own encoder may write `+` for spaces; the sample uses `%20`.
        let text = String(decoding: try CoreFixtures.sharedBody(Self.blockActionsSample), as: UTF8.self)
        #expect(text.contains("%20"))
        try expectBoltBlockActions(Array(text.replacingOccurrences(of: "%20", with: "+").utf8))
    }

    @Test func boltBlockActionsMatchesItsJSONTwin() throws {
        let form = try FormBody.parse(try CoreFixtures.sharedBody(Self.blockActionsSample))
        let payload = try #require(form["payload"])
        let fromForm = try #require(JSONValue.parse(Array(payload.utf8)))
        let fromJSON = try #require(
            JSONValue.parse(try CoreFixtures.sharedBytes("specs/slack/samples/interactivity/block_actions.bolt_python_fixture.json")))
        #expect(fromForm == fromJSON)
    }

    @Test func slashCommandSampleDecodes() throws {
        let form = try FormBody.parse(
            try CoreFixtures.sharedBody("specs/slack/samples/slash_commands/slash_command.slack_docs_example.form-urlencoded.txt"))
        let decoded = try #require(
            JSONValue.parse(try CoreFixtures.sharedBytes("specs/slack/samples/slash_commands/slash_command.slack_docs_example.decoded.json"))?
                .objectValue)
        #expect(form == decoded.compactMapValues(\.stringValue))
        #expect(form.count == decoded.count)

        let command = try SlashCommand(form: form)
        #expect(command.command == "/webhook-collect")
        #expect(command.text == "")
        #expect(command.userID == "U2CERLKJA")
        #expect(command.channelID == "G8PSS9T3V")
        #expect(command.responseURL == "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN")
        #expect(command.triggerID == "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c")
    }

    @Test(arguments: ["command", "user_id"])
    func slashCommandWithoutARequiredFieldIsInvalid(field: String) throws {
        var form = ["command": "/sentry", "text": "help", "user_id": "U2CERLKJA"]
        form[field] = nil
        #expect(throws: SlashCommand.Invalid.self) { try SlashCommand(form: form) }
        form[field] = ""
        #expect(throws: SlashCommand.Invalid.self) { try SlashCommand(form: form) }
    }

    @Test(arguments: [
        [String: String](),
        ["payload": "not json"],
        ["payload": "[1]"],
        ["payload": #"{"user":{"id":"U1"}}"#],
        ["payload": #"{"type":"block_actions","actions":[{"action_id":"ack"}]}"#],
        ["payload": #"{"type":"block_actions","user":{"id":"U1"},"actions":[]}"#],
        ["payload": #"{"type":"block_actions","user":{"id":"U1"},"actions":[{"value":"A1"}]}"#],
    ])
    func brokenInteractionPayloadsAreInvalid(form: [String: String]) {
        #expect(throws: InteractionPayload.Invalid.self) { try InteractionPayload.decode(form: form) }
    }
}
