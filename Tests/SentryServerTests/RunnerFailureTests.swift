import Foundation
import SentryConnectors
import SentryCore
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

@testable import SentryServer

/// What a final failure feeds back to the alert, and that a Slack user reads Sentry's sentence, not the service's.
@Suite struct ServerRunnerFailureTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var effect: AlertEffect
        var expected: AlertEvent?
        var testDescription: String { "\(effect)" }
    }

    static let sentence = "Meraki refused the request"
    static let rows: [Row] = [
        Row(effect: .postAlert, expected: .postFailed(reason: sentence)),
        Row(effect: .executeContainment(id: "C-1"), expected: .containmentFailed(id: "C-1", phase: .execute, reason: sentence)),
        Row(effect: .releaseContainment(id: "C-2"), expected: .containmentFailed(id: "C-2", phase: .release, reason: sentence)),
        Row(effect: .updateMessage, expected: nil),
        Row(effect: .replyInThread(text: "hi"), expected: nil),
        Row(effect: .postNotice(channel: "C1", text: "hi"), expected: nil),
        Row(effect: .tellUser(userID: "U1", text: "hi", responseURL: nil), expected: nil),
    ]

    @Test(arguments: rows) func aFinalFailureFeedsBack(_ row: Row) {
        #expect(EffectRunner.feedback(for: row.effect, sentence: Self.sentence) == row.expected)
    }

    @Test func aRefusedRollbackIsToldInSentryWordsAndLoggedInFull() async throws {
        try await ServerHardeningTests.withLoggedHarness { h, logs in
            let (alertID, ts) = try await h.postedAlert()
            let id = try await ServerContainmentFlowTests().requestBlock(h, alertID: alertID, ts: ts)
            _ = try await h.client.click("approve", value: id, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await h.store.alert(id: alertID)?.containments.first?.status == .active })
            h.meraki.inject([.status(403)], for: "/networks/\(MerakiSimulator.branch)/appliance/firewall/l3FirewallRules", method: "GET")
            _ = try await h.client.click("unblock", value: id, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(await eventually { try await h.store.alert(id: alertID)?.containments.first?.status == .failed })
            let failure = try #require(try await h.store.alert(id: alertID)?.containments.first?.failure)
            #expect(failure.contains("\(MerakiSimulator.branch): Meraki refused the request"), "\(failure)")
            #expect(!failure.contains("HTTP") && !failure.contains("Simulated failure"), "\(failure)")
            #expect(await h.simulator.waitUntil { $0.replies(to: ts).contains { $0.text.contains(":warning:") } })
            let thread = h.simulator.replies(to: ts).map(\.text).joined(separator: "\n")
            #expect(!thread.contains("HTTP 403") && !thread.contains("Simulated failure"), "\(thread)")
            #expect(logs.lines.contains { $0.contains("HTTP 403") && $0.contains("Simulated failure") })
        }
    }

    @Test func aPostThatFailedForGoodRecordsASentence() async throws {
        try await withHarness { h in
            h.simulator.inject([.error("channel_not_found")], for: "chat.postMessage")
            let answer = try await h.client.detection(ServerHarness.detection(id: "lost"), secret: ServerHarness.webhookSecret)
            let alertID = try #require(answer.json?["alert_id"]?.stringValue)
            #expect(await eventually { try await h.store.alert(id: alertID)?.postFailure != nil })
            #expect(try await h.store.alert(id: alertID)?.postFailure == "Slack refused the request")
            let failed = try await h.store.outbox(alertID: alertID).filter { $0.state == "failed" }
            #expect(failed.first?.lastError?.contains("channel_not_found") == true, "the outbox keeps the detail")
        }
    }
}
