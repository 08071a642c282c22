import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// `/sentry stats` and the weekly digest over hostile names (playbooks, detections and subjects with every piece
/// Slack and Swift count differently, thousands of them): every message stays within Slack's limits.
@Suite struct CoreStatsLimitTests {
    static func randomRows(_ rng: inout SplitMix64, end: Date) -> [AlertStatsRow] {
        let names = (0..<Int.random(in: 1...40, using: &rng)).map { _ in
            CoreBlockKitLimitTests.randomText(&rng, maxPieces: [3, 40, 900].randomElement(using: &rng)!)
        }
        return (0..<Int.random(in: 0...2_000, using: &rng)).map { index in
            let created = end.addingTimeInterval(-Double.random(in: 0..<(30 * 86_400), using: &rng))
            let acknowledged = Bool.random(using: &rng) ? created.addingTimeInterval(Double.random(in: 0..<86_400, using: &rng)) : nil
            return AlertStatsRow(
                alertID: "A-\(index)", createdAt: created, acknowledgedAt: acknowledged,
                closedAt: acknowledged.map { $0.addingTimeInterval(Double.random(in: 0..<(9 * 86_400), using: &rng)) },
                status: acknowledged == nil ? .open : .resolved, playbookID: names.randomElement(using: &rng)!,
                detection: names.randomElement(using: &rng)!, subjectLabel: Bool.random(using: &rng) ? names.randomElement(using: &rng) : nil,
                containmentsPlaced: Int.random(in: 0...3, using: &rng), containmentsApproved: Int.random(in: 0...3, using: &rng),
                containmentsRejected: Int.random(in: 0...1, using: &rng), containmentsRolledBack: Int.random(in: 0...2, using: &rng))
        }
    }

    @Test(arguments: 0..<12) func statsAndDigestStayWithinSlackLimits(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let end = Date(timeIntervalSince1970: 1_796_029_200)
        let rows = Self.randomRows(&rng, end: end)
        for days in [7, 30] {
            let stats = AlertStats(rows: rows, from: end.addingTimeInterval(-Double(days) * 86_400), to: end)
            let title = CoreBlockKitLimitTests.randomText(&rng, maxPieces: 200)
            let command = StatsMessage.render(stats, title: title)
            #expect(BlockKitCheck.messageProblem(text: command.text, blocks: command.blocks) == nil, "stats of seed \(seed), \(days) days")
            let digest = WeeklyDigest.message(stats, week: "2026-W49")
            #expect(BlockKitCheck.messageProblem(text: digest.text, blocks: digest.blocks) == nil, "digest of seed \(seed), \(days) days")
        }
    }
}
