import Foundation
import SentryConnectors
import SentryCore
import SentryTestSupport
import Testing

extension Connectors {
    /// `conversations.open` for the question to an alert's subject, and the `users.info` flags that decide it.
    @Suite struct SlackClientConversationsTests {
        private func client(_ baseURL: String) -> SlackClient {
            SlackClient(
                transport: CurlTransport(), baseURL: baseURL, token: "xoxb-test-token", retry: RetryPolicy(maxAttempts: 1),
                sleep: RecordingSleep().sleep, logger: quietLogger)
        }

        @Test func openDirectMessageSendsTheUserAndReadsTheChannel() async throws {
            // The success example of Slack's OpenAPI spec for conversations.open.
            let slack = FakeSlack(["/api/conversations.open": [.ok(#"{"ok":true,"channel":{"id":"D069C7QFK"}}"#)]])
            try await slack.run { baseURL in
                let channel = try await client(baseURL).openDirectMessage(userID: "U024BE7LH")
                #expect(channel == "D069C7QFK")
            }
            let call = try #require(slack.calls.first)
            #expect(call.method == "POST")
            #expect(call.path == "/api/conversations.open")
            #expect(call.json == ["users": "U024BE7LH"])
            #expect(call.headers["authorization"] == "Bearer xoxb-test-token")
        }

        @Test func aRefusedOrShapelessAnswerIsAnError() async throws {
            let slack = FakeSlack([
                "/api/conversations.open": [.ok(#"{"ok":false,"error":"user_disabled"}"#), .ok(#"{"ok":true,"channel":{}}"#)]
            ])
            try await slack.run { baseURL in
                await #expect(throws: SlackError.self) { try await client(baseURL).openDirectMessage(userID: "U1") }
                await #expect(throws: SlackError.self) { try await client(baseURL).openDirectMessage(userID: "U1") }
            }
        }

        @Test func deactivatedAndBotUsersAreReadAsSuch() async throws {
            let slack = FakeSlack([
                "/api/users.info": [
                    .ok(#"{"ok":true,"user":{"id":"U0GONE","name":"gone","deleted":true,"is_bot":false}}"#),
                    .ok(#"{"ok":true,"user":{"id":"B0BOT","name":"bot","deleted":false,"is_bot":true,"is_app_user":false}}"#),
                ]
            ])
            try await slack.run { baseURL in
                let gone = try await client(baseURL).userInfo(id: "U0GONE")
                let bot = try await client(baseURL).userInfo(id: "B0BOT")
                #expect(ConfirmationRule.whyNotAsk(SubjectAccount(deleted: gone.deleted, isBot: gone.isBot)) == "the account is deactivated")
                #expect(ConfirmationRule.whyNotAsk(SubjectAccount(deleted: bot.deleted, isBot: bot.isBot)) == "the account is a bot")
            }
        }
    }
}
