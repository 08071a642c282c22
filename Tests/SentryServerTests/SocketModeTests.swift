import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

/// Socket Mode against the loopback fake (issue 15, point 6): connecting, the envelope types and their acks.
@Suite struct SocketModeTests {
    @Test func helloOpensEachConnectionFromItsOwnFreshURL() async throws {
        try await withSocketMode(connections: 2) { h in
            #expect(await h.connected(2))
            #expect(h.socket.openCalls == 2)
            #expect(h.socket.connectionsMade.count == 2)
            // Each URL was minted for one connection and used once.
            #expect(h.socket.refusedURLs == 0)
            #expect(h.client.connectionAttempts == 2)
            #expect(h.http.metrics.value(ServerMetrics.Name.socketsOpen, []) == 2)
        }
    }

    @Test func everyEnvelopeTypeReachesTheOneHandlerAndIsAcked() async throws {
        try await withSocketMode(connections: 1) { h in
            #expect(await h.connected(1))
            let event = try await h.socket.send(
                "events_api", payload: SocketModeHarness.appMention(eventID: "Ev0001"), acceptsResponsePayload: false, retryAttempt: 0)
            let command = try await h.socket.send(
                "slash_commands", payload: SocketModeHarness.commandPayload("help", responseURL: h.http.responseURL), acceptsResponsePayload: true)
            let click = try await h.socket.send(
                "interactive",
                payload: LoopbackClient.clickPayload("no_such_button", value: "A-X", user: ServerHarness.alice, responseURL: h.http.responseURL),
                acceptsResponsePayload: true)
            #expect(await h.socket.waitUntil { $0.acks.count == 3 })
            #expect(Set(h.socket.acks.map(\.envelopeID)) == [event, command, click])
            #expect(h.answerer.seen.current.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.command, .event, .interaction])
            // The event and the click answered as over HTTP: a notice in the channel, a refusal to the clicker.
            #expect(await h.http.simulator.waitUntil { $0.messages.contains { $0.channel == ServerHarness.channel } })
            #expect(await h.http.simulator.waitUntil { $0.responses.contains { $0["text"]?.stringValue?.contains("no_such_button") == true } })
            #expect(h.socket.ack(for: event)?.payload == nil)
            #expect(h.socket.ack(for: click)?.payload == nil)
            #expect(h.http.metrics.value(ServerMetrics.Name.socketEnvelopes, ["type=\"events_api\"", "outcome=\"acked\""]) == 1)
        }
    }

    @Test func aSlashCommandsAckCarriesWhatTheHTTPBodyWould() async throws {
        try await withSocketMode(connections: 1) { h in
            #expect(await h.connected(1))
            let overHTTP = try await h.http.client.command("help", user: ServerHarness.alice, responseURL: h.http.responseURL)
            let id = try await h.socket.send(
                "slash_commands", payload: SocketModeHarness.commandPayload("help", responseURL: h.http.responseURL), acceptsResponsePayload: true)
            #expect(await h.socket.waitUntil { $0.ack(for: id) != nil })
            let payload = try #require(h.socket.ack(for: id)?.payload)
            #expect(payload["response_type"] == "ephemeral")
            #expect(payload["text"]?.stringValue?.contains("/sentry alerts") == true)
            #expect(payload == overHTTP.json)
        }
    }

    @Test func aModalWithErrorsIsAnsweredInTheAck() async throws {
        try await withSocketMode(connections: 1) { h in
            #expect(await h.connected(1))
            let values: JSONValue = [
                "ttl": ["ttl": ["type": "plain_text_input", "value": "4h"]], "reason": ["reason": ["type": "plain_text_input", "value": "x y z"]],
            ]
            let overHTTP = try await h.http.client.submitView(
                callbackID: ContainmentModal.callbackID, user: ServerHarness.alice, privateMetadata: "{}", values: values)
            let payload = LoopbackClient.viewSubmissionPayload(
                callbackID: ContainmentModal.callbackID, user: ServerHarness.alice, privateMetadata: "{}", values: values)
            let id = try await h.socket.send("interactive", payload: payload, acceptsResponsePayload: true)
            #expect(await h.socket.waitUntil { $0.ack(for: id) != nil })
            let ack = try #require(h.socket.ack(for: id)?.payload)
            #expect(ack["response_action"] == "errors")
            #expect(ack["errors"]?[ContainmentModal.reasonBlock] != nil)
            #expect(ack == overHTTP.json)
        }
    }

    @Test func aSlowHandlerIsStillAckedInTimeAndItsAnswerFollows() async throws {
        try await withSocketMode(connections: 1, delay: .seconds(1), settings: { $0.ackDeadline = .milliseconds(200) }) { h in
            #expect(await h.connected(1))
            let id = try await h.socket.send(
                "slash_commands", payload: SocketModeHarness.commandPayload("help", responseURL: h.http.responseURL), acceptsResponsePayload: true)
            #expect(await h.socket.waitUntil(timeout: .seconds(5)) { $0.ack(for: id) != nil })
            let ack = try #require(h.socket.ack(for: id))
            // Acked empty at the deadline, before the 1 s handler had its answer (which would have been in the ack):
            // an order, not a wall-clock bound, so a loaded machine cannot fail it.
            #expect(ack.payload == nil)
            #expect(await h.http.simulator.waitUntil { $0.responses.contains { $0["text"]?.stringValue?.contains("/sentry alerts") == true } })
        }
    }

    @Test func anOversizedAnswerGoesThroughResponseURL() async throws {
        try await withSocketMode(connections: 1, settings: { $0.maxAckBytes = 300 }) { h in
            #expect(await h.connected(1))
            let id = try await h.socket.send(
                "slash_commands", payload: SocketModeHarness.commandPayload("help", responseURL: h.http.responseURL), acceptsResponsePayload: true)
            #expect(await h.socket.waitUntil { $0.ack(for: id) != nil })
            let ack = try #require(h.socket.ack(for: id))
            #expect(ack.payload == nil)
            #expect(ack.bytes < 300)
            #expect(await h.http.simulator.waitUntil { $0.responses.contains { $0["text"]?.stringValue?.contains("/sentry alerts") == true } })
            #expect(h.http.metrics.value(ServerMetrics.Name.socketEnvelopes, ["type=\"slash_commands\"", "outcome=\"oversized\""]) == 1)
        }
    }

    @Test func aDuplicateEventOnTwoSocketsIsHandledOnce() async throws {
        try await withSocketMode(connections: 2) { h in
            #expect(await h.connected(2))
            let sockets = h.socket.openConnections
            let event = SocketModeHarness.appMention(eventID: "Ev0DUP")
            let first = try await h.socket.send("events_api", payload: event, acceptsResponsePayload: false, retryAttempt: 0, connection: sockets[0])
            let second = try await h.socket.send("events_api", payload: event, acceptsResponsePayload: false, retryAttempt: 1, connection: sockets[1])
            #expect(await h.socket.waitUntil { $0.acks.count == 2 })
            #expect(Set(h.socket.acks.map(\.envelopeID)) == [first, second])
            #expect(Set(h.socket.acks.map(\.connection)) == Set(sockets))
            #expect(h.answerer.eventIDs == ["Ev0DUP"])
            // A retry of a new event is a real delivery, never dropped.
            _ = try await h.socket.send(
                "events_api", payload: SocketModeHarness.appMention(eventID: "Ev0RETRY"), acceptsResponsePayload: false, retryAttempt: 2)
            #expect(await eventually { h.answerer.eventIDs == ["Ev0DUP", "Ev0RETRY"] })
        }
    }
}
