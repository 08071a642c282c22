import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

/// Socket Mode staying connected (issue 15, points 3 and 6): refresh, dead sockets, and the errors that stop it.
@Suite struct SocketModeResilienceTests {
    @Test func aRefreshDuringABurstOf200LosesNoneAndHandlesNoneTwice() async throws {
        try await withSocketMode(connections: 1) { h in
            #expect(await h.connected(1))
            let first = try #require(h.socket.openConnections.first)
            var sent: [String] = []
            for index in 0..<200 {
                if index == 100 { try await h.socket.disconnect("refresh_requested", connection: first) }
                // Loopback is quick: from here on, the burst goes to whichever socket is newest once the second is up.
                if index == 150 { #expect(await h.socket.waitUntil { $0.connectionsMade.count == 2 }) }
                let id = "env-\(index)"
                let event = SocketModeHarness.appMention(eventID: "Ev\(index)")
                // Slack sends to a socket that is open; if it closed under the send, the envelope goes again elsewhere.
                var delivered = false
                for _ in 0..<50 where !delivered {
                    do {
                        try await h.socket.send("events_api", payload: event, acceptsResponsePayload: false, retryAttempt: 0, envelopeID: id)
                        delivered = true
                    } catch {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                #expect(delivered)
                sent.append(id)
            }
            #expect(await h.socket.waitUntil { Set($0.acks.map(\.envelopeID)) == Set(sent) })
            let handled = h.answerer.eventIDs
            #expect(handled.count == 200)
            #expect(Set(handled).count == 200)
            // Make-before-break: the second socket said hello before the first closed, and only one is left.
            #expect(h.socket.connectionsMade.count == 2)
            #expect(await eventually { h.socket.openConnections.count == 1 && h.socket.openConnections.first != first })
            #expect(h.socket.acks.contains { $0.connection == first } && h.socket.acks.contains { $0.connection != first })
        }
    }

    @Test func aSocketThatStopsAnsweringPingsIsReplaced() async throws {
        // Pings every 400 ms: quick enough for a test, slow enough that a loaded machine does not miss the live socket's pongs.
        try await withSocketMode(connections: 1, settings: { $0.pingInterval = .milliseconds(400) }, before: { $0.freezeNextConnections(1) }) { h in
            // The frozen socket says hello, then never reads: its pings go unanswered.
            #expect(await h.socket.waitUntil { $0.connectionsMade.count >= 2 })
            #expect(await h.connected(1))
            let live = try #require(h.socket.openConnections.first)
            #expect(live != h.socket.connectionsMade.first)
            let id = try await h.socket.send(
                "events_api", payload: SocketModeHarness.appMention(eventID: "EvAfterPing"), acceptsResponsePayload: false)
            #expect(await h.socket.waitUntil(timeout: .seconds(30)) { $0.ack(for: id) != nil })
        }
    }

    @Test func linkDisabledStopsWithoutALoopAndReadinessFails() async throws {
        try await withSocketMode(connections: 1, environment: ["SLACK_APP_TOKEN": SocketModeHarness.appToken]) { h in
            #expect(await h.connected(1))
            let socket = try #require(h.socket.openConnections.first)
            try await h.socket.disconnect("link_disabled", connection: socket)
            await h.task.value
            #expect(h.client.status.stoppedReason?.contains("link_disabled") == true)
            try await Task.sleep(for: .milliseconds(300))
            #expect(h.socket.openCalls == 1)
            #expect(h.client.connectionAttempts == 1)
            let ready = try await h.http.client.send("GET", "/readyz")
            #expect(ready.status == 503)
            #expect(ready.text.contains("Socket Mode stopped"))
        }
    }

    @Test func invalidAuthStopsWithoutALoop() async throws {
        try await withSocketMode(
            connections: 2, environment: ["SLACK_APP_TOKEN": SocketModeHarness.appToken],
            before: { $0.failNextOpens(["invalid_auth", "invalid_auth"]) }
        ) { h in
            // Both slots ask once at most; the first refusal stops both; nothing asks again.
            await h.task.value
            try await Task.sleep(for: .milliseconds(300))
            #expect(h.client.status.stoppedReason?.contains("invalid_auth") == true)
            #expect(h.client.connectionAttempts <= 2)
            #expect(h.socket.openCalls == h.client.connectionAttempts)
            #expect(h.socket.connectionsMade.isEmpty)
            #expect(try await h.http.client.send("GET", "/readyz").status == 503)
        }
    }

    @Test func aHelloCountingMoreSocketsThanOursIsWarnedAbout() async throws {
        let lines = RecordingLogLines()
        try await withSocketMode(connections: 1, logger: lines.logger, before: { $0.pretendOtherConnections(2) }) { h in
            #expect(await h.connected(1))
            #expect(await eventually { lines.lines.contains { $0.hasPrefix("warning") && $0.contains("another process") } })
            #expect(!lines.lines.contains { $0.contains(SocketModeHarness.appToken) })
        }
    }

    @Test func aFailingOpenIsRetriedWithBackoff() async throws {
        try await withSocketMode(connections: 1, before: { $0.failNextOpens(["internal_error", "internal_error"]) }) { h in
            #expect(await h.connected(1))
            #expect(h.socket.openCalls >= 3)
        }
    }

    @Test func withAnAppTokenTheSlackRoutesAnswer404AndTheRestStays() async throws {
        try await withHarness(environment: ["SLACK_APP_TOKEN": SocketModeHarness.appToken]) { h in
            for path in ["/slack/commands", "/slack/interactivity", "/slack/events"] {
                #expect(try await h.client.slack(path, form: "payload=%7B%7D").status == 404, "\(path)")
            }
            #expect(try await h.client.send("GET", "/healthz").status == 200)
            #expect(try await h.client.send("GET", "/readyz").status == 200)
            #expect(try await h.client.send("GET", "/metrics").status == 200)
            let hook = try await h.client.detection(ServerHarness.detection(), secret: ServerHarness.webhookSecret)
            #expect(hook.status == 202)
        }
    }

    @Test func theAppTokenIsCheckedAndSaidAtStartUp() throws {
        let base = [
            "SLACK_SIGNING_SECRET": "s", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_ALERT_CHANNEL": "C0123456789",
        ]
        var malformed = base
        malformed["SLACK_APP_TOKEN"] = "xoxb-not-an-app-token"
        guard case .failure(let problems) = ServerConfiguration.load(environment: malformed) else {
            Issue.record("a bot token was taken as the app token")
            return
        }
        #expect(problems.lines.count == 1)
        #expect(problems.lines[0].contains("SLACK_APP_TOKEN must be an app-level token starting with xapp-"))
        #expect(!problems.lines[0].contains("xoxb-not"))
        var tooMany = base
        tooMany["SLACK_APP_TOKEN"] = "xapp-1-A-1-x"
        tooMany["SLACK_SOCKET_CONNECTIONS"] = "11"
        #expect((try? ServerConfiguration.load(environment: tooMany).get()) == nil)
        var good = base
        good["SLACK_APP_TOKEN"] = "xapp-1-A-1-x"
        let configuration = try ServerConfiguration.load(environment: good).get()
        #expect(configuration.slackSocketConnections == 2)
        #expect(configuration.disabledFeatures.contains { $0.contains("Socket Mode") && $0.contains("404") })
        #expect(try ServerConfiguration.load(environment: base).get().disabledFeatures.allSatisfy { !$0.contains("Socket Mode") })
    }

    @Test func theSigningSecretIsOptionalOverSocketModeOnly() throws {
        let base = ["SLACK_BOT_TOKEN": "xoxb-1", "SLACK_ALERT_CHANNEL": "C0123456789"]
        // Over HTTP: required, with the same line as ever.
        guard case .failure(let problems) = ServerConfiguration.load(environment: base) else {
            Issue.record("started over HTTP with no signing secret")
            return
        }
        #expect(problems.lines == ["SLACK_SIGNING_SECRET is required: the Signing Secret from your Slack app's Basic Information page"])
        // Over Socket Mode: optional, and kept when given.
        var socket = base
        socket["SLACK_APP_TOKEN"] = "xapp-1-A-1-x"
        #expect(try ServerConfiguration.load(environment: socket).get().slackSigningSecret == nil)
        socket["SLACK_SIGNING_SECRET"] = "s"
        #expect(try ServerConfiguration.load(environment: socket).get().slackSigningSecret == "s")
        // A malformed app token is still one line, about the token.
        var malformed = base
        malformed["SLACK_APP_TOKEN"] = "xoxb-not-an-app-token"
        guard case .failure(let refused) = ServerConfiguration.load(environment: malformed) else {
            Issue.record("a bot token was taken as the app token")
            return
        }
        #expect(refused.lines.count == 1)
        #expect(refused.lines.first?.hasPrefix("SLACK_APP_TOKEN must be an app-level token") == true)
    }

    @Test func withoutASigningSecretSocketModeServesAndTheSlackRoutesStay404() async throws {
        try await withSocketMode(connections: 1, environment: ["SLACK_APP_TOKEN": SocketModeHarness.appToken, "SLACK_SIGNING_SECRET": ""]) { h in
            #expect(h.http.server.context.configuration.slackSigningSecret == nil)
            #expect(await h.connected(1))
            let id = try await h.socket.send(
                "slash_commands", payload: SocketModeHarness.commandPayload("help", responseURL: h.http.responseURL), acceptsResponsePayload: true)
            #expect(await h.socket.waitUntil { $0.ack(for: id) != nil })
            #expect(h.socket.ack(for: id)?.payload?["text"]?.stringValue?.contains("/sentry alerts") == true)
            for path in ["/slack/commands", "/slack/interactivity", "/slack/events"] {
                #expect(try await h.http.client.slack(path, form: "payload=%7B%7D").status == 404, "\(path)")
            }
            #expect(try await h.http.client.send("GET", "/readyz").status == 200)
        }
    }

    @Test func framesDecodeAsSlackSendsThem() {
        #expect(
            SocketModeFrame.decode(#"{"type":"hello","num_connections":3,"debug_info":{"approximate_connection_time":18060}}"#)
                == .hello(numConnections: 3, approximateConnectionTime: 18_060))
        #expect(SocketModeFrame.decode(#"{"type":"disconnect","reason":"warning","debug_info":{"host":"h"}}"#) == .disconnect(reason: "warning"))
        #expect(SocketModeFrame.decode(#"{"type":"events_api","payload":{}}"#) == .unknown(type: "events_api"))
        guard
            case .envelope(let envelope) = SocketModeFrame.decode(
                #"{"envelope_id":"e1","type":"slash_commands","payload":{"command":"/sentry","text":"help","user_id":"U1"},"accepts_response_payload":true}"#
            )
        else {
            Issue.record("no envelope")
            return
        }
        #expect(envelope.callback == .command(fields: ["command": "/sentry", "text": "help", "user_id": "U1"]))
        #expect(JSONValue.parse(Array(envelope.ack(payload: ["text": "hi"]).utf8)) == ["envelope_id": "e1", "payload": ["text": "hi"]])
        let event = SocketModeEnvelope(id: "e2", kind: .eventsAPI, payload: ["event_id": "Ev1"], acceptsResponsePayload: false)
        #expect(JSONValue.parse(Array(event.ack(payload: ["text": "ignored"]).utf8)) == ["envelope_id": "e2"])
    }

    @Test func backoffIsCappedAndJittered() {
        var settings = SocketModeSettings(connections: 12)
        #expect(settings.connections == 10)
        settings.initialBackoff = .seconds(1)
        settings.maxBackoff = .seconds(60)
        for failures in 1...30 {
            let wait = settings.backoff(afterFailures: failures)
            let full = min(Duration.seconds(1) * Int(1 << min(failures - 1, 20)), .seconds(60))
            #expect(wait <= full && wait >= full / 2, "\(failures)")
        }
    }
}
