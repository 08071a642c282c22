import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

/// A burst against a Slack that enforces its limits: grouped alerts, coalesced updates, no storm of 429s.
@Suite struct ServerPostingDisciplineTests {
    @Test func aBurstOf500DetectionsIn10SecondsStaysWithinSlackLimits() async throws {
        try await withHarness { h in
            h.simulator.enforce(SlackSimulator.Limits(postsPerChannel: 5, postWindow: 5, updates: 50, updateWindow: 60))
            let ips = (1...5).map { "203.0.113.\($0)" }
            let started = ContinuousClock.now
            for second in 0..<10 {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for n in 0..<50 {
                        let index = second * 50 + n
                        group.addTask {
                            try await h.client.detection(
                                ServerHarness.detection(id: "burst-\(index)", ip: ips[index % 5]), secret: ServerHarness.webhookSecret
                            ).status
                        }
                    }
                    for try await status in group { #expect(status == 202) }
                }
                try? await Task.sleep(until: started + .seconds(second + 1), clock: ContinuousClock())
            }
            #expect(try await h.store.countAlerts()[.open] == 5)
            // Every alert ends up showing all 100 of its detections: updates coalesce but are never dropped.
            #expect(
                await h.simulator.waitUntil(timeout: .seconds(30)) { simulator in
                    simulator.topLevelMessages().count == 5
                        && simulator.topLevelMessages().allSatisfy { Transcript.text($0.blocks).contains("100 times") }
                })
            let updates = h.simulator.requests.filter { $0.method == "chat.update" }.count
            #expect(updates < 100, "495 grouped detections must not mean 495 updates (\(updates))")
            #expect(h.simulator.rateLimitedCount <= 2, "429s: \(h.simulator.rateLimitedCount)")
        }
    }
}
