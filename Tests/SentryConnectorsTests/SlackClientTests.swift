import Foundation
import SentryConnectors
import SentryCore
import SentryTestSupport
import Testing

extension Connectors {
    @Suite struct SlackClientTests {
        private func client(
            _ baseURL: String,
            sleep: RecordingSleep = RecordingSleep(),
            retry: RetryPolicy = .standard,
            timeout: Duration = .seconds(5),
            transport: CurlTransport = CurlTransport()
        ) -> SlackClient {
            SlackClient(
                transport: transport, baseURL: baseURL, token: "xoxb-test-token", retry: retry,
                requestTimeout: timeout, sleep: sleep.sleep, logger: quietLogger
            )
        }

        @Test func postMessageSendsTokenJSONAndFields() async throws {
            let slack = FakeSlack(["/api/chat.postMessage": [.ok(#"{"ok":true,"channel":"C024BE91L","ts":"1700000000.000100"}"#)]])
            try await slack.run { baseURL in
                // A trailing slash on the base URL is tolerated.
                let ref = try await client(baseURL + "/").postMessage(
                    channel: "C024BE91L",
                    text: "Maximum daily download exceeded",
                    blocks: [["type": "section", "text": ["type": "mrkdwn", "text": "*alert*"]]],
                    threadTS: "1699999999.000001",
                    metadata: SlackMessageMetadata(eventType: "sentry_alert", payload: ["alert_id": "A1", "count": 2])
                )
                #expect(ref == SlackMessageRef(channel: "C024BE91L", ts: "1700000000.000100"))
            }
            let call = try #require(slack.calls.first)
            #expect(slack.calls.count == 1)
            #expect(call.method == "POST")
            #expect(call.headers["authorization"] == "Bearer xoxb-test-token")
            #expect(call.headers["content-type"] == "application/json; charset=utf-8")
            let json = try #require(call.json)
            #expect(json["channel"] == "C024BE91L")
            #expect(json["text"] == "Maximum daily download exceeded")
            #expect(json["blocks"] == [["type": "section", "text": ["type": "mrkdwn", "text": "*alert*"]]])
            #expect(json["thread_ts"] == "1699999999.000001")
            #expect(json["metadata"] == ["event_type": "sentry_alert", "event_payload": ["alert_id": "A1", "count": 2]])
        }

        @Test func okFalseIsAnAPIErrorWithSlacksCode() async throws {
            let slack = FakeSlack(["/api/chat.postMessage": [.ok(#"{"ok":false,"error":"channel_not_found"}"#)]])
            let sleep = RecordingSleep()
            try await slack.run { baseURL in
                let error = await #expect(throws: SlackError.self) {
                    _ = try await client(baseURL, sleep: sleep).postMessage(channel: "C1", text: "x")
                }
                #expect(error == .api(method: "chat.postMessage", code: "channel_not_found"))
                #expect(error?.isPermanent == true)
            }
            #expect(slack.calls.count == 1)
            #expect(sleep.durations.isEmpty)
        }

        @Test func rateLimitWaitsForRetryAfterThenSucceeds() async throws {
            let slack = FakeSlack([
                "/api/chat.postMessage": [
                    FakeSlack.Reply(status: 429, retryAfter: "1", body: #"{"ok":false,"error":"ratelimited"}"#),
                    .ok(#"{"ok":true,"channel":"C1","ts":"1.2"}"#),
                ]
            ])
            let sleep = RecordingSleep()
            try await slack.run { baseURL in
                // Even a post is repeated after a 429: Slack did not act on it.
                let ref = try await client(baseURL, sleep: sleep).postMessage(channel: "C1", text: "x")
                #expect(ref.ts == "1.2")
            }
            #expect(slack.calls.count == 2)
            #expect(sleep.durations == [.seconds(1)])
        }

        @Test func rateLimitBeyondTheCapGoesToTheCaller() async throws {
            let slack = FakeSlack(["/api/chat.update": [FakeSlack.Reply(status: 429, retryAfter: "120", body: "")]])
            let sleep = RecordingSleep()
            try await slack.run { baseURL in
                let error = await #expect(throws: SlackError.self) {
                    try await client(baseURL, sleep: sleep).update(channel: "C1", ts: "1.2", text: "x")
                }
                #expect(error == .rateLimited(method: "chat.update", retryAfter: .seconds(120)))
                #expect(error?.isRetryable == true)
            }
            #expect(slack.calls.count == 1)
            #expect(sleep.durations.isEmpty)
        }

        @Test func updateIsRetriedAfterServerErrors() async throws {
            let slack = FakeSlack(["/api/chat.update": [.status(500), .status(503), .ok()]])
            let sleep = RecordingSleep()
            try await slack.run { baseURL in
                try await client(baseURL, sleep: sleep).update(channel: "C1", ts: "1.2", text: "updated", blocks: [])
            }
            #expect(slack.calls.count == 3)
            let waits = sleep.durations
            try #require(waits.count == 2)
            // Backoff 0.5 s then 1 s, each jittered by ±50 %.
            #expect(waits[0] >= .milliseconds(250) && waits[0] <= .milliseconds(750))
            #expect(waits[1] >= .milliseconds(500) && waits[1] <= .milliseconds(1500))
            #expect(slack.calls.last?.json?["ts"] == "1.2")
        }

        @Test func retriesStopAtMaxAttempts() async throws {
            let slack = FakeSlack(["/api/chat.update": [.status(502)]])
            let sleep = RecordingSleep()
            try await slack.run { baseURL in
                let error = await #expect(throws: SlackError.self) {
                    try await client(baseURL, sleep: sleep, retry: RetryPolicy(maxAttempts: 3))
                        .update(channel: "C1", ts: "1.2", text: "x")
                }
                #expect(error == .http(method: "chat.update", status: 502))
            }
            #expect(slack.calls.count == 3)
            #expect(sleep.durations.count == 2)
        }

        @Test func postMessageIsNotRepeatedAfterAServerError() async throws {
            let slack = FakeSlack(["/api/chat.postMessage": [.status(500), .ok(#"{"ok":true,"channel":"C1","ts":"1.2"}"#)]])
            let sleep = RecordingSleep()
            try await slack.run { baseURL in
                let error = await #expect(throws: SlackError.self) {
                    _ = try await client(baseURL, sleep: sleep).postMessage(channel: "C1", text: "x")
                }
                #expect(error == .http(method: "chat.postMessage", status: 500))
                #expect(error?.isRetryable == true)
            }
            #expect(slack.calls.count == 1)
            #expect(sleep.durations.isEmpty)
        }

        @Test func postMessageIsNotRepeatedAfterATimeout() async throws {
            let slack = FakeSlack(["/api/chat.postMessage": [.held]])
            let sleep = RecordingSleep()
            try await slack.run { baseURL in
                let error = await #expect(throws: SlackError.self) {
                    _ = try await client(baseURL, sleep: sleep, timeout: .milliseconds(200))
                        .postMessage(channel: "C1", text: "x")
                }
                #expect(error == .transport(method: "chat.postMessage", .timedOut))
            }
            #expect(slack.calls.count == 1)
            #expect(sleep.durations.isEmpty)
        }

        @Test func refusedConnectionIsRetriedEvenForPosts() async throws {
            let sleep = RecordingSleep()
            // Port 1 on loopback: nothing listens there, so the connection is refused at once.
            let slack = client("http://127.0.0.1:1/api", sleep: sleep, retry: RetryPolicy(maxAttempts: 3))
            let error = await #expect(throws: SlackError.self) {
                _ = try await slack.postMessage(channel: "C1", text: "x")
            }
            guard case .transport(let method, .connectionFailed) = error else {
                Issue.record("expected connectionFailed, got \(String(describing: error))")
                return
            }
            #expect(method == "chat.postMessage")
            #expect(sleep.durations.count == 2)
        }

        @Test func malformedBodyIsReported() async throws {
            let slack = FakeSlack([
                "/api/chat.update": [FakeSlack.Reply(contentType: "text/html", body: "<html>gateway</html>")]
            ])
            let sleep = RecordingSleep()
            try await slack.run { baseURL in
                let error = await #expect(throws: SlackError.self) {
                    try await client(baseURL, sleep: sleep).update(channel: "C1", ts: "1.2", text: "x")
                }
                #expect(error == .malformedResponse(method: "chat.update"))
            }
            #expect(slack.calls.count == 1)
        }

        @Test func postMessageAnswerWithoutTSIsMalformed() async throws {
            let slack = FakeSlack(["/api/chat.postMessage": [.ok(#"{"ok":true}"#)]])
            try await slack.run { baseURL in
                let error = await #expect(throws: SlackError.self) {
                    _ = try await client(baseURL).postMessage(channel: "C1", text: "x")
                }
                #expect(error == .malformedResponse(method: "chat.postMessage"))
            }
        }

        @Test func postEphemeralSendsUserAndThread() async throws {
            let slack = FakeSlack(["/api/chat.postEphemeral": [.ok(#"{"ok":true,"message_ts":"1.5"}"#)]])
            try await slack.run { baseURL in
                try await client(baseURL).postEphemeral(channel: "C1", user: "U1", text: "only you", threadTS: "1.0")
            }
            let json = try #require(slack.calls.first?.json)
            #expect(json == ["channel": "C1", "user": "U1", "text": "only you", "thread_ts": "1.0"])
        }

        @Test func respondPostsToTheResponseURLWithoutTheToken() async throws {
            let slack = FakeSlack(["/actions/T1/123/abc": [FakeSlack.Reply(contentType: "text/plain", body: "ok")]])
            try await slack.run { baseURL in
                let responseURL = baseURL.replacingOccurrences(of: "/api", with: "") + "/actions/T1/123/abc"
                try await client(baseURL).respond(
                    to: responseURL, text: "Blocked 203.0.113.7", responseType: .inChannel, replaceOriginal: true
                )
            }
            let call = try #require(slack.calls.first)
            #expect(call.headers["authorization"] == nil)
            #expect(call.headers["content-type"] == "application/json; charset=utf-8")
            #expect(call.json == ["text": "Blocked 203.0.113.7", "response_type": "in_channel", "replace_original": true])
        }

        @Test func respondReportsAnExpiredURL() async throws {
            let slack = FakeSlack(["/actions/T1/1/x": [.status(404, #"{"ok":false,"error":"expired_url"}"#)]])
            try await slack.run { baseURL in
                let error = await #expect(throws: SlackError.self) {
                    try await client(baseURL).respond(to: baseURL.replacingOccurrences(of: "/api", with: "/actions/T1/1/x"), text: "x")
                }
                #expect(error == .api(method: "response_url", code: "expired_url"))
            }
        }

        @Test func userInfoReadsTheUser() async throws {
            let slack = FakeSlack([
                "/api/users.info": [
                    .ok(
                        #"""
                        {"ok":true,"user":{"id":"W012A3CDE","team_id":"T012AB3C4","name":"spengler","deleted":false,
                         "real_name":"Egon Spengler","tz":"America/Los_Angeles","is_admin":true,"is_owner":false,
                         "is_primary_owner":false,"is_restricted":false,"is_ultra_restricted":false,"is_bot":false,
                         "is_app_user":false,"profile":{"display_name":"spengler","email":"spengler@ghostbusters.example.com"}}}
                        """#)
                ]
            ])
            try await slack.run { baseURL in
                let user = try await client(baseURL).userInfo(id: "W012A3CDE")
                #expect(
                    user
                        == SlackUser(
                            id: "W012A3CDE", teamID: "T012AB3C4", name: "spengler", realName: "Egon Spengler",
                            displayName: "spengler", email: "spengler@ghostbusters.example.com", timeZone: "America/Los_Angeles",
                            isAdmin: true
                        ))
            }
            let call = try #require(slack.calls.first)
            #expect(call.method == "GET")
            #expect(call.query == ["user": "W012A3CDE"])
            #expect(call.headers["authorization"] == "Bearer xoxb-test-token")
        }

        @Test func historyReturnsMessagesWithMetadata() async throws {
            let slack = FakeSlack([
                "/api/conversations.history": [
                    .ok(
                        #"""
                        {"ok":true,"has_more":false,"messages":[
                          {"type":"message","user":"U1","text":"hello","ts":"1700000002.000200"},
                          {"type":"message","bot_id":"B1","text":"Alert","ts":"1700000001.000100",
                           "metadata":{"event_type":"sentry_alert","event_payload":{"alert_id":"A1"}}}]}
                        """#)
                ]
            ])
            try await slack.run { baseURL in
                let messages = try await client(baseURL).history(channel: "C1", oldest: "1700000000.000000", limit: 50)
                #expect(
                    messages == [
                        SlackHistoryMessage(ts: "1700000002.000200", text: "hello", user: "U1"),
                        SlackHistoryMessage(
                            ts: "1700000001.000100", text: "Alert", botID: "B1",
                            metadata: SlackMessageMetadata(eventType: "sentry_alert", payload: ["alert_id": "A1"])
                        ),
                    ])
            }
            let call = try #require(slack.calls.first)
            #expect(
                call.query == [
                    "channel": "C1", "oldest": "1700000000.000000", "limit": "50", "include_all_metadata": "true",
                ])
        }

        @Test func usergroupMembersListsUserIDs() async throws {
            let slack = FakeSlack(["/api/usergroups.users.list": [.ok(#"{"ok":true,"users":["U060R4BJ4","W123A4BC5"]}"#)]])
            try await slack.run { baseURL in
                let members = try await client(baseURL).usergroupMembers(id: "S0604QSJC")
                #expect(members == ["U060R4BJ4", "W123A4BC5"])
            }
            #expect(slack.calls.first?.query == ["usergroup": "S0604QSJC"])
        }

        @Test func queryValuesArePercentEncoded() async throws {
            let slack = FakeSlack(["/api/users.info": [.ok(#"{"ok":true,"user":{"id":"U1","name":"a"}}"#)]])
            try await slack.run { baseURL in
                _ = try await client(baseURL).userInfo(id: "U1&x=y z")
            }
            #expect(slack.calls.first?.query == ["user": "U1&x=y z"])
        }

        @Test func manyConcurrentCallsAllComplete() async throws {
            let slack = FakeSlack(["/api/usergroups.users.list": [.ok(#"{"ok":true,"users":["U1"]}"#)]])
            try await slack.run { baseURL in
                let slackClient = client(baseURL)
                let results = try await withThrowingTaskGroup(of: [String].self) { group in
                    for index in 0..<200 {
                        group.addTask { try await slackClient.usergroupMembers(id: "S\(index)") }
                    }
                    return try await group.reduce(into: [[String]]()) { $0.append($1) }
                }
                #expect(results.count == 200)
                #expect(results.allSatisfy { $0 == ["U1"] })
            }
            #expect(Set(slack.calls.compactMap { $0.query["usergroup"] }).count == 200)
        }
    }

    @Suite struct SlackErrorTests {
        @Test(arguments: [
            (SlackError.api(method: "m", code: "invalid_auth"), false),
            (.api(method: "m", code: "internal_error"), true),
            (.rateLimited(method: "m", retryAfter: .seconds(3)), true),
            (.http(method: "m", status: 503), true),
            (.http(method: "m", status: 404), false),
            (.transport(method: "m", .timedOut), true),
            (.transport(method: "m", .connectionFailed("refused")), true),
            (.transport(method: "m", .invalidURL("bad")), false),
            (.malformedResponse(method: "m"), true),
        ])
        func retryableOrPermanent(error: SlackError, retryable: Bool) {
            #expect(error.isRetryable == retryable)
            #expect(error.isPermanent == !retryable)
        }

        @Test func backoffDoublesWithinJitterAndStopsAtTheCap() {
            let policy = RetryPolicy.standard
            #expect(policy.backoff(afterAttempt: 1, random: 0) == .milliseconds(500))
            #expect(policy.backoff(afterAttempt: 2, random: 0) == .seconds(1))
            #expect(policy.backoff(afterAttempt: 2, random: -1) == .milliseconds(500))
            #expect(policy.backoff(afterAttempt: 2, random: 1) == .milliseconds(1500))
            // At the cap the jitter only goes down: waits that reached it stay spread over 15–30 s.
            #expect(policy.backoff(afterAttempt: 12, random: 0) == .seconds(30))
            #expect(policy.backoff(afterAttempt: 12, random: 1) == .seconds(15))
            #expect(policy.backoff(afterAttempt: 12, random: -1) == .seconds(15))
            #expect(policy.retryAfter(header: nil) == .seconds(1))
            #expect(policy.retryAfter(header: "7") == .seconds(7))
            #expect(policy.retryAfter(header: "Wed, 21 Oct 2015 07:28:00 GMT") == .seconds(1))
        }
    }
}
