import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// Block Kit limits as Slack counts them: Unicode scalars, not Swift Characters.
@Suite struct CoreBlockKitLimitTests {
    typealias F = CoreFixtures
    static let combining = String(repeating: "e\u{301}", count: 240)
    static let family = String(repeating: "👨‍👩‍👧‍👦", count: 60)

    @Test func truncationCountsScalarsAndCutsOnGraphemeBoundaries() {
        let cut = BlockKitText.truncate(Self.combining, 150)
        #expect(BlockKitText.length(cut) <= 150)
        #expect(cut.hasSuffix("…"))
        // Whole "é" pairs only: no lone base letter or orphan accent at the cut.
        #expect(cut.dropLast().allSatisfy { $0 == "e\u{301}" })
        #expect(cut.dropLast().count == 74)

        let family = BlockKitText.truncate(Self.family, 150)
        #expect(BlockKitText.length(family) <= 150)
        // A family emoji is 7 scalars: 21 fit in 149.
        #expect(family.dropLast().count == 21)
        #expect(family.dropLast().allSatisfy { $0 == "👨‍👩‍👧‍👦" })

        // Nothing is cut that fits, whatever its Character count.
        #expect(BlockKitText.truncate("abc", 3) == "abc")
        // A single grapheme longer than the budget leaves only the mark.
        #expect(BlockKitText.truncate("a" + String(repeating: "\u{301}", count: 20), 5) == "…")
        // Never inside an escape.
        #expect(BlockKitText.truncate("abcd&amp;efgh", 7) == "abcd…")
    }

    @Test func aCombiningTitleRendersAHeaderSlackAccepts() {
        // 240 Characters but 480 scalars: a Character count of the header says 242, Slack says 483.
        let alert = F.openAlert(detection: F.detection(title: Self.combining))
        let blocks = AlertMessage.render(alert).blocks
        let header = blocks.arrayValue?.first?["text"]?["text"]?.stringValue ?? ""
        #expect(BlockKitText.length(header) <= AlertMessage.Limits.headerText)
        #expect(BlockKitCheck.problem(blocks) == nil)
    }

    @Test func theCheckRefusesWhatSlackRefuses() {
        let header: JSONValue = [["type": "header", "text": ["type": "plain_text", "text": .string(String(repeating: "e\u{301}", count: 100))]]]
        #expect(BlockKitCheck.problem(header) != nil, "200 scalars, though only 100 Characters")
        let context: JSONValue = [["type": "context", "elements": [["type": "mrkdwn", "text": .string(String(repeating: "x", count: 2_001))]]]]
        #expect(BlockKitCheck.problem(context) != nil)
        let title: JSONValue = ["type": "modal", "title": ["type": "plain_text", "text": "A title longer than twenty-four"], "blocks": []]
        #expect(BlockKitCheck.viewProblem(title) != nil)
    }

    @Test func theMinimalFormKeepsTitleIDAndEveryButton() throws {
        var alert = F.openAlert(playbook: F.playbook(actions: [ContainmentAction(kind: .blockIP, approvals: 1, ttl: 3_600)]))
        alert.containments = [
            Containment(
                id: "C-1", kind: .blockIP, target: "203.0.113.7", reason: "spraying", ttl: 3_600, requestedBy: F.alice,
                requestedAt: F.t0, approvalsRequired: 1, approvals: [], status: .awaitingApproval, dryRun: false)
        ]
        let minimal = AlertMessage.renderMinimal(alert)
        #expect(BlockKitCheck.messageProblem(text: minimal.text, blocks: minimal.blocks) == nil)
        let blocks = try #require(minimal.blocks.arrayValue)
        #expect(blocks.first?["text"]?["type"] == "plain_text")
        #expect(blocks.first?["text"]?["text"]?.stringValue?.contains(alert.id) == true)
        let actions = blocks.compactMap { $0["elements"]?.arrayValue }.flatMap { $0 }.compactMap { $0["action_id"]?.stringValue }
        #expect(actions == ["approve", "reject", "ack", "resolve", "dismiss", "snooze", "block_ip"])
    }

    // MARK: property: random Unicode in every text field of every message kind stays within every limit

    /// Pieces Slack and Swift count differently: combining runs, ZWJ families, flags, RTL and bidi controls,
    /// full-width forms, astral letters and emoji, mrkdwn's escapes, backticks and newlines.
    static let pieces: [String] = [
        "e\u{301}", "a\u{301}\u{302}\u{303}\u{304}", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "👍🏽", "שלום", "مرحبا", "\u{202E}evil\u{202C}",
        "\u{200F}", "ＡＢＣ１２３", "全角テキスト", "𝐀𝐁𝐂", "😀", "𓀀", "&", "<", ">", "&amp;", "`", "```", "*", "_", "\n", "\r\n",
        "\t", "\u{0}", "\u{FEFF}", "\u{200B}", "abc", " ", "<!channel>", "<@U123>", ":smile:", "\u{1F9D1}\u{200D}\u{1F4BB}",
    ]

    static func randomText(_ rng: inout SplitMix64, maxPieces: Int) -> String {
        let count = Int.random(in: 0...maxPieces, using: &rng)
        var text = ""
        for _ in 0..<count { text += pieces.randomElement(using: &rng)! }
        return text
    }

    static func randomAlert(_ rng: inout SplitMix64) -> Alert {
        let long = [0, 5, 60, 400, 2_500].randomElement(using: &rng)!
        let playbook = Playbook(
            id: randomText(&rng, maxPieces: 20), title: "t", detection: "d", severity: .high,
            actions: [ContainmentAction(kind: .blockIP, approvals: 1, ttl: 3_600), ContainmentAction(kind: .blockUser, approvals: 0, ttl: 60)])
        let detection = Detection(
            id: "x", detection: randomText(&rng, maxPieces: 30), title: randomText(&rng, maxPieces: long),
            summary: randomText(&rng, maxPieces: long * 2),
            subject: Subject(
                slackUserID: "U0ALICE1", ip: randomText(&rng, maxPieces: 10), merakiNetworkID: randomText(&rng, maxPieces: long),
                merakiSerial: randomText(&rng, maxPieces: long)),
            evidence: .object([randomText(&rng, maxPieces: 40): .string(randomText(&rng, maxPieces: long * 3)), "n": 3]))
        var alert = AlertMachine.handle(nil, .detectionReceived(detection, playbook: playbook, channel: "C1"), alertID: "A-1", now: F.t0).alert!
        alert.postFailure = randomText(&rng, maxPieces: long)
        alert.escalations = Int.random(in: 0...3, using: &rng)
        alert.status = AlertStatus.allCases.randomElement(using: &rng)!
        for index in 0..<Int.random(in: 0...12, using: &rng) {
            var item = Containment(
                id: "C-\(index)", kind: Bool.random(using: &rng) ? .blockIP : .blockUser, target: randomText(&rng, maxPieces: 30),
                reason: randomText(&rng, maxPieces: long), ttl: 3_600, requestedBy: "U0BOB1", requestedAt: F.t0, approvalsRequired: 2,
                approvals: ["U0ALICE1"], status: Containment.Status.allCases.randomElement(using: &rng)!, dryRun: Bool.random(using: &rng))
            item.failure = randomText(&rng, maxPieces: long)
            item.failedPhase = .execute
            item.activeUntil = F.t0
            alert.containments.append(item)
        }
        return alert
    }

    @Test(arguments: 0..<8) func everyMessageKindStaysWithinEveryLimit(seed: UInt64) {
        var rng = SplitMix64(seed: 0x5EED_0000 + seed)
        for _ in 0..<60 {
            let alert = Self.randomAlert(&rng)
            let full = AlertMessage.render(alert)
            #expect(BlockKitCheck.messageProblem(text: full.text, blocks: full.blocks) == nil, "alert message of seed \(seed)")
            let minimal = AlertMessage.renderMinimal(alert)
            #expect(BlockKitCheck.messageProblem(text: minimal.text, blocks: minimal.blocks) == nil, "minimal message of seed \(seed)")

            let metadata = ContainmentModal.Metadata(
                alertID: alert.id, kind: Bool.random(using: &rng) ? .blockIP : .blockUser, target: Self.randomText(&rng, maxPieces: 40))
            let view = ContainmentModal.view(
                metadata, defaultTTL: 3_600, approvals: 1, minTTL: 60, maxTTL: 86_400, note: Self.randomText(&rng, maxPieces: 2_000),
                dryRun: Bool.random(using: &rng))
            #expect(BlockKitCheck.viewProblem(view) == nil, "modal of seed \(seed)")

            let rows = (0..<Int.random(in: 0...40, using: &rng)).map { index in
                UplinkRow(
                    networkID: "N\(index)", networkName: Self.randomText(&rng, maxPieces: 200), serial: Self.randomText(&rng, maxPieces: 30),
                    deviceName: Self.randomText(&rng, maxPieces: 100), model: Self.randomText(&rng, maxPieces: 20), lastReportedAt: F.t0,
                    links: (0..<3).map { _ in
                        UplinkRow.Link(
                            interface: Self.randomText(&rng, maxPieces: 200), status: Self.randomText(&rng, maxPieces: 100),
                            ip: Self.randomText(&rng, maxPieces: 100), publicIP: Self.randomText(&rng, maxPieces: 100))
                    })
            }
            for message in UplinksMessage.render(rows, heading: Self.randomText(&rng, maxPieces: 300)) {
                #expect(BlockKitCheck.problem(message) == nil, "uplinks message of seed \(seed)")
            }

            // Thread replies and answers the machine writes carry text only: within the message text limit.
            let ack = AlertMachine.handle(
                alert, .clicked(Click(action: .ack, userID: "U0ALICE1", mayAct: true, responseURL: nil)), alertID: alert.id, now: F.t0)
            for effect in ack.effects {
                switch effect {
                case .replyInThread(let text), .postNotice(_, let text), .tellUser(_, let text, _):
                    #expect(BlockKitCheck.messageProblem(text: text, blocks: nil) == nil)
                default:
                    break
                }
            }
        }
    }
}
