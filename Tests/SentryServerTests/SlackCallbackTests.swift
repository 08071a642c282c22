import Foundation
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

/// One path for Slack's payloads (issue 15, point 2): the handler answers a proven callback without HTTP, with
/// the status and body the HTTP response carries.
@Suite struct SlackCallbackTests {
    @Test func aCommandIsAnsweredWithoutHTTPAsOverHTTP() async throws {
        try await withHarness { h in
            let controller = SlackController(context: h.server.context)
            let fields = Dictionary(uniqueKeysWithValues: LoopbackClient.commandFields("help", user: ServerHarness.alice))
            let direct = try await controller.answer(.command(fields: fields))
            let overHTTP = try await h.client.command("help", user: ServerHarness.alice)
            #expect(direct.status == .ok)
            #expect(direct.payload != nil)
            #expect(direct.payload == overHTTP.json)
        }
    }

    @Test func anEventAndAnInteractionAreAnsweredWithoutHTTP() async throws {
        try await withHarness { h in
            let controller = SlackController(context: h.server.context)
            let challenge = try await controller.answer(.event(["type": "url_verification", "challenge": "abc", "token": "t"]))
            #expect(challenge == .json(["challenge": "abc"]))
            let closed = try await controller.answer(.interaction(payload: ["type": "view_closed", "user": ["id": .string(ServerHarness.alice)]]))
            #expect(closed == .ok)
            #expect(closed.payload == nil)
        }
    }

    @Test func aMalformedCallbackIsThe400TheEndpointAnswers() async throws {
        try await withHarness { h in
            let controller = SlackController(context: h.server.context)
            let noUser = try await controller.answer(.command(fields: ["command": "/sentry", "text": "help"]))
            let overHTTP = try await h.client.slack("/slack/commands", form: "command=%2Fsentry&text=help")
            #expect(noUser.status == .badRequest)
            #expect(overHTTP.status == 400)
            #expect(noUser.body == .text(overHTTP.text))
            let noType = try await controller.answer(.interaction(payload: ["user": ["id": "U1"]]))
            #expect(noType.status == .badRequest)
            #expect(
                SlackCallback.decode(.event, body: Array("[1]".utf8)) == .failure(.init(answer: .text(.badRequest, "body is not a JSON object\n"))))
            #expect(
                SlackCallback.decode(.interaction, body: Array("a=b".utf8))
                    == .failure(.init(answer: .text(.badRequest, "missing form field: payload\n"))))
        }
    }
}
