import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import Testing

@Suite struct ServerEndpointTests {
    func signedHeaders(
        _ body: String, secret: String = ServerHarness.signingSecret, timestamp: Int, contentType: String = "application/x-www-form-urlencoded"
    ) -> [HTTPHeader] {
        [
            HTTPHeader("Content-Type", contentType), HTTPHeader("X-Slack-Request-Timestamp", String(timestamp)),
            HTTPHeader("X-Slack-Signature", RequestVerifier(secret: secret).sign(timestamp: String(timestamp), body: Array(body.utf8))),
        ]
    }

    static let helpForm = FormBody.encode([
        ("command", "/sentry"), ("text", "help"), ("user_id", "U0ALICE"), ("channel_id", "C0TESTALERTS"),
        ("response_url", "https://hooks.slack.com/commands/1/2/3"), ("trigger_id", "1.2.3"),
    ])

    @Test func slashHelpAnswersEphemeralUsage() async throws {
        try await withHarness { h in
            let answer = try await h.client.slack("/slack/commands", form: Self.helpForm)
            #expect(answer.status == 200)
            #expect(answer.json?["response_type"] == "ephemeral")
            #expect(answer.json?["text"]?.stringValue?.contains("/sentry alerts") == true)
        }
    }

    enum BadSignature: CaseIterable { case wrongSecret, missingSignature, missingTimestamp, stale, future, garbage }

    @Test(arguments: BadSignature.allCases)
    func badSignaturesAre401BeforeParsing(_ kind: BadSignature) async throws {
        try await withHarness { h in
            let now = Int(h.clock.now().timeIntervalSince1970)
            var headers: [HTTPHeader]
            switch kind {
            case .wrongSecret: headers = signedHeaders(Self.helpForm, secret: "another-secret", timestamp: now)
            case .missingSignature: headers = signedHeaders(Self.helpForm, timestamp: now).filter { $0.name != "X-Slack-Signature" }
            case .missingTimestamp: headers = signedHeaders(Self.helpForm, timestamp: now).filter { $0.name != "X-Slack-Request-Timestamp" }
            case .stale: headers = signedHeaders(Self.helpForm, timestamp: now - 301)
            case .future: headers = signedHeaders(Self.helpForm, timestamp: now + 301)
            case .garbage:
                headers = signedHeaders(Self.helpForm, timestamp: now).map { $0.name == "X-Slack-Signature" ? HTTPHeader($0.name, "v0=zz") : $0 }
            }
            for path in ["/slack/commands", "/slack/interactivity", "/slack/events"] {
                let answer = try await h.client.send("POST", path, body: Array(Self.helpForm.utf8), headers: headers)
                #expect(answer.status == 401, "\(path) \(kind)")
            }
            #expect(h.metrics.value(ServerMetrics.Name.verificationFailures, ["reason=\"signature_mismatch\""]) == (kind == .wrongSecret ? 3 : 0))
        }
    }

    @Test func timestampsAtTheEdgeOfTheWindowAreAccepted() async throws {
        try await withHarness { h in
            let now = Int(h.clock.now().timeIntervalSince1970)
            for skew in [-300, 300] {
                let answer = try await h.client.send(
                    "POST", "/slack/commands", body: Array(Self.helpForm.utf8), headers: signedHeaders(Self.helpForm, timestamp: now + skew))
                #expect(answer.status == 200)
            }
        }
    }

    @Test func oversizeBodyIs413WithoutHashing() async throws {
        try await withHarness { h in
            let big = "text=" + String(repeating: "a", count: 70 * 1024)
            for path in ["/slack/commands", "/slack/interactivity", "/slack/events", "/hooks/detections"] {
                let answer = try await h.client.send(
                    "POST", path, body: Array(big.utf8), headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")])
                #expect(answer.status == 413, "\(path)")
            }
            let failures = ["signature_mismatch", "missing_signature", "missing_timestamp"].map {
                h.metrics.value(ServerMetrics.Name.verificationFailures, ["reason=\"\($0)\""])
            }
            #expect(failures == [0, 0, 0])
        }
    }

    @Test func sslCheckGetsABare200AndNothingIsProcessed() async throws {
        try await withHarness { h in
            let form = "ssl_check=1&token=REDACTED&command=%2Fsentry&text=alerts&user_id=U0ALICE"
            let answer = try await h.client.send(
                "POST", "/slack/commands", body: Array(form.utf8), headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")])
            #expect(answer.status == 200)
            #expect(answer.body.isEmpty)
            // Any other value of ssl_check is an ordinary, unsigned request.
            let fake = try await h.client.send(
                "POST", "/slack/commands", body: Array("ssl_check=true&command=%2Fsentry".utf8),
                headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")])
            #expect(fake.status == 401)
        }
    }

    @Test func wrongContentTypeAndMalformedBodies() async throws {
        try await withHarness { h in
            let json = try await h.client.slack("/slack/commands", form: "{\"text\":\"help\"}", contentType: "application/json")
            #expect(json.status == 415)
            let badForm = try await h.client.slack("/slack/commands", form: "command=%2Fsentry&text=%zz&user_id=U1")
            #expect(badForm.status == 400)
            let noUser = try await h.client.slack("/slack/commands", form: "command=%2Fsentry&text=help")
            #expect(noUser.status == 400)
            let noPayload = try await h.client.slack("/slack/interactivity", form: "something=else")
            #expect(noPayload.status == 400)
            let badPayload = try await h.client.slack("/slack/interactivity", form: "payload=%7Bnot%20json")
            #expect(badPayload.status == 400)
            let noActions = try await h.client.slack(
                "/slack/interactivity", form: FormBody.encode([("payload", #"{"type":"block_actions","user":{"id":"U0ALICE"},"actions":[]}"#)]))
            #expect(noActions.status == 400)
            let eventsForm = try await h.client.slack("/slack/events", form: "a=b")
            #expect(eventsForm.status == 415)
            let eventsBad = try await h.client.slack("/slack/events", form: "[1,2", contentType: "application/json")
            #expect(eventsBad.status == 400)
        }
    }

    @Test func unknownSubcommandGetsUsage() async throws {
        try await withHarness { h in
            let form = FormBody.encode([("command", "/sentry"), ("text", "frobnicate now"), ("user_id", "U0ALICE")])
            let answer = try await h.client.slack("/slack/commands", form: form)
            #expect(answer.status == 200)
            #expect(answer.json?["text"]?.stringValue?.contains("does not know `frobnicate`") == true)
        }
    }

    @Test func alertsAndAlertCommandsReadTheStore() async throws {
        try await withHarness { h in
            let (alertID, _) = try await h.postedAlert()
            let list = try await h.client.slack(
                "/slack/commands", form: FormBody.encode([("command", "/sentry"), ("text", "alerts"), ("user_id", "U0ALICE")]))
            #expect(list.json?["text"]?.stringValue?.contains(alertID) == true)
            let one = try await h.client.slack(
                "/slack/commands", form: FormBody.encode([("command", "/sentry"), ("text", "alert \(alertID.lowercased())"), ("user_id", "U0ALICE")]))
            #expect(one.json?["text"]?.stringValue?.contains("Open") == true)
            let missing = try await h.client.slack(
                "/slack/commands", form: FormBody.encode([("command", "/sentry"), ("text", "alert A-00000000"), ("user_id", "U0ALICE")]))
            #expect(missing.json?["text"]?.stringValue?.contains("No alert") == true)
        }
    }

    @Test func urlVerificationEchoesTheChallenge() async throws {
        try await withHarness { h in
            let body = #"{"token":"REDACTED","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#
            let answer = try await h.client.slack("/slack/events", form: body, contentType: "application/json")
            #expect(answer.status == 200)
            #expect(answer.json?["challenge"] == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
        }
    }

    @Test func appMentionAnswersOnceEvenWhenSlackRetries() async throws {
        try await withHarness { h in
            let body =
                #"{"type":"event_callback","event_id":"Ev0TEST1","event":{"type":"app_mention","channel":"C0TESTALERTS","user":"U0ALICE","text":"<@U0SENTRY> status","ts":"1.1"}}"#
            for _ in 0..<3 {
                let answer = try await h.client.slack("/slack/events", form: body, contentType: "application/json")
                #expect(answer.status == 200)
            }
            #expect(await h.simulator.waitUntil { $0.topLevelMessages().count == 1 })
            #expect(await h.settled())
            #expect(h.simulator.topLevelMessages().count == 1)
            #expect(h.simulator.topLevelMessages().first?.text.contains("Open alerts: 0, acknowledged: 0, active blocks: 0") == true)
        }
    }

    @Test func healthReadinessAndMetrics() async throws {
        try await withHarness { h in
            let health = try await h.client.send("GET", "/healthz")
            #expect(health.status == 200)
            let ready = try await h.client.send("GET", "/readyz")
            #expect(ready.status == 200)
            _ = try await h.client.slack("/slack/commands", form: Self.helpForm)
            let metrics = try await h.client.send("GET", "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.text.contains(#"sentry_http_requests_total{endpoint="slack_commands",status="200"} 1"#))
            #expect(metrics.text.contains("sentry_outbox_pending"))
        }
    }

    @Test func readinessFailsWithoutPlaybooks() async throws {
        try await withHarness(playbooks: []) { h in
            let ready = try await h.client.send("GET", "/readyz")
            #expect(ready.status == 503)
        }
    }
}
