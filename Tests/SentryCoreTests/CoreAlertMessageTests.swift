import Foundation
import SentryTestSupport
import SentryTesting
import Testing

@testable import SentryCore

private typealias F = CoreFixtures

/// `AlertMessage.render`: Block Kit within Slack's limits, nothing from a detection able to ping or break out.
@Suite struct CoreAlertMessageTests {
    /// Slack's limits as the brief states them; independent of `AlertMessage.Limits`.
    static func limitProblems(_ blocks: JSONValue) -> [String] {
        guard let list = blocks.arrayValue else { return ["blocks is not an array"] }
        var problems: [String] = []
        if list.count > 50 { problems.append("\(list.count) blocks") }
        for (index, block) in list.enumerated() {
            switch block["type"]?.stringValue {
            case "header":
                let text = block["text"]?["text"]?.stringValue ?? ""
                if text.count > 150 { problems.append("header \(index): \(text.count) characters") }
                if block["text"]?["type"] != "plain_text" { problems.append("header \(index) not plain_text") }
            case "section":
                if let text = block["text"]?["text"]?.stringValue, text.count > 3_000 {
                    problems.append("section \(index): \(text.count) characters")
                }
                let fields = block["fields"]?.arrayValue ?? []
                if fields.count > 10 { problems.append("section \(index): \(fields.count) fields") }
                for field in fields where (field["text"]?.stringValue?.count ?? 0) > 2_000 {
                    problems.append("section \(index): a field over 2000")
                }
            case "actions":
                for element in block["elements"]?.arrayValue ?? [] where (element["text"]?["text"]?.stringValue?.count ?? 0) > 75 {
                    problems.append("actions \(index): button text over 75")
                }
            default:
                break
            }
        }
        return problems
    }

    static func hugeAlert() -> Alert {
        var evidence: [String: JSONValue] = [:]
        for index in 0..<400 {
            evidence["key_\(index)"] = .string(String(repeating: "<x&y> ", count: 30))
        }
        evidence["nested"] = .array((0..<200).map { .object(["n": .number(Double($0)), "s": "```"]) })
        let detection = F.detection(
            severity: .critical, title: String(repeating: "T", count: 250),
            subject: Subject(
                slackUserID: "U024BE7LH", ip: "2001:db8::1", merakiNetworkID: String(repeating: "N", count: 64),
                merakiSerial: String(repeating: "Q", count: 64)),
            evidence: .object(evidence))
        let playbook = F.playbook(actions: [
            ContainmentAction(kind: .blockIP, approvals: 1, ttl: 3_600), ContainmentAction(kind: .blockUser, approvals: 1, ttl: 3_600),
        ])
        var alert = F.openAlert(playbook: playbook, detection: detection)
        alert.summary = String(repeating: "<!here> & ", count: 200)  // 2000 characters, 4× that once escaped
        alert.postFailure = String(repeating: "e", count: 3_000)
        alert.escalations = 3
        alert.occurrences = 123_456
        return alert
    }

    static func evidenceText(_ blocks: JSONValue) -> String? {
        blocks.arrayValue?.lazy
            .compactMap { $0["text"]?["text"]?.stringValue }
            .first { $0.hasPrefix("*Evidence*") }
    }

    @Test(arguments: AlertStatus.allCases)
    func hugeAlertStaysWithinBlockKitLimits(status: AlertStatus) throws {
        var alert = Self.hugeAlert()
        alert.status = status
        alert.acknowledgedBy = status == .acknowledged ? F.alice : nil
        alert.closedBy = status.isFinished ? F.alice : nil
        let (text, blocks) = AlertMessage.render(alert)
        #expect(Self.limitProblems(blocks) == [])
        #expect(BlockKitCheck.problem(blocks) == nil)
        #expect(text.count <= 4_000)
        #expect(!text.isEmpty)
        // Truncated, but there.
        let evidence = try #require(Self.evidenceText(blocks))
        #expect(evidence.hasSuffix("…```"))
        let header = try #require(blocks.arrayValue?.first?["text"]?["text"]?.stringValue)
        #expect(header.hasPrefix(alert.severity.emoji + " TTTT"))
        #expect(header.hasSuffix("…"))
    }

    @Test func truncationNeverLeavesHalfAnEntity() throws {
        let (_, blocks) = AlertMessage.render(Self.hugeAlert())
        for text in blocks.arrayValue!.compactMap({ $0["text"]?["text"]?.stringValue }) {
            // Every '&' must start one of the three entities.
            var rest = Substring(text)
            while let amp = rest.firstIndex(of: "&") {
                let tail = rest[amp...]
                #expect(tail.hasPrefix("&amp;") || tail.hasPrefix("&lt;") || tail.hasPrefix("&gt;"), "\(tail.prefix(8))")
                rest = rest[rest.index(after: amp)...]
            }
        }
    }

    @Test(arguments: ["<!channel>", "<@U123>", "<!subteam^S0ONCALL>", "<https://evil.example|click me>", "<#C0SECRET>", "&lt;!channel&gt;"])
    func evidenceAndSummaryCannotMentionOrLink(payload: String) throws {
        var alert = F.openAlert(
            detection: F.detection(
                subject: Subject(ip: "203.0.113.7"), evidence: ["note": .string("hi \(payload) there"), "list": [.string(payload)]]))
        alert.summary = "summary \(payload)"
        let (_, blocks) = AlertMessage.render(alert)
        let evidence = try #require(Self.evidenceText(blocks))
        #expect(!evidence.contains("<"), "\(evidence)")
        #expect(!evidence.contains(">"), "\(evidence)")
        let summary = try #require(blocks.arrayValue?.compactMap { $0["text"]?["text"]?.stringValue }.first { $0.hasPrefix("summary") })
        #expect(!summary.contains("<"), "\(summary)")
        // Escaped, so a reader still sees what the engine sent.
        #expect(
            summary == "summary "
                + payload.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
                    of: ">", with: "&gt;"))
        let everything = blocks.encoded()
        #expect(!everything.contains(payload.hasPrefix("&") ? "<!channel>" : payload))
    }

    @Test(arguments: ["```", "````", "`````", "``````", "a```b```c", "```\n<!channel>\n```", String(repeating: "`", count: 50)])
    func backticksInEvidenceCannotCloseTheCodeBlock(payload: String) throws {
        let alert = F.openAlert(detection: F.detection(evidence: ["note": .string(payload)]))
        let (_, blocks) = AlertMessage.render(alert)
        let evidence = try #require(Self.evidenceText(blocks))
        #expect(evidence.hasPrefix("*Evidence*\n```"))
        #expect(evidence.hasSuffix("```"))
        let inner = evidence.dropFirst("*Evidence*\n```".count).dropLast(3)
        #expect(!inner.contains("```"), "code block closes early: \(inner)")
        // Nor may the inner text end in a backtick that merges with the closing fence.
        #expect(inner.last != "`")
    }

    /// (status, actions the playbook offers, subject, action ids expected; nil means no actions block)
    static let buttonCases: [(AlertStatus, [ContainmentAction.Kind], Subject, [String]?)] = [
        (.open, [], Subject(slackUserID: "U024BE7LH", ip: "203.0.113.7"), ["ack", "resolve", "dismiss", "snooze"]),
        (.open, [.blockIP], Subject(ip: "203.0.113.7"), ["ack", "resolve", "dismiss", "snooze", "block_ip"]),
        (.open, [.blockIP], Subject(slackUserID: "U024BE7LH"), ["ack", "resolve", "dismiss", "snooze"]),
        (.open, [.blockUser], Subject(slackUserID: "U024BE7LH"), ["ack", "resolve", "dismiss", "snooze", "block_user"]),
        (.open, [.blockUser], Subject(ip: "203.0.113.7"), ["ack", "resolve", "dismiss", "snooze"]),
        (.open, [.blockUser, .blockIP], Subject(merakiSerial: "Q2XX"), ["ack", "resolve", "dismiss", "snooze"]),
        (
            .open, [.blockUser, .blockIP], Subject(slackUserID: "U024BE7LH", ip: "203.0.113.7"),
            ["ack", "resolve", "dismiss", "snooze", "block_user", "block_ip"]
        ),
        (.acknowledged, [], Subject(ip: "203.0.113.7"), ["resolve", "dismiss", "snooze"]),
        (
            .acknowledged, [.blockUser, .blockIP], Subject(slackUserID: "U024BE7LH", ip: "203.0.113.7"),
            ["resolve", "dismiss", "snooze", "block_user", "block_ip"]
        ),
        (.resolved, [.blockUser, .blockIP], Subject(slackUserID: "U024BE7LH", ip: "203.0.113.7"), nil),
        (.dismissed, [.blockUser, .blockIP], Subject(slackUserID: "U024BE7LH", ip: "203.0.113.7"), nil),
    ]

    @Test(arguments: buttonCases)
    func buttonsFollowStatusPolicyAndSubject(status: AlertStatus, offered: [ContainmentAction.Kind], subject: Subject, expected: [String]?) throws {
        let playbook = F.playbook(actions: offered.map { ContainmentAction(kind: $0, approvals: 1, ttl: 3_600) })
        var alert = F.openAlert(id: "A42", playbook: playbook, detection: F.detection(subject: subject))
        alert.status = status
        let (_, blocks) = AlertMessage.render(alert)
        let actionBlocks = blocks.arrayValue!.filter { $0["type"] == "actions" }
        #expect(BlockKitCheck.problem(blocks) == nil)
        guard let expected else {
            #expect(actionBlocks.isEmpty)
            return
        }
        #expect(actionBlocks.count == 1)
        let buttons = try #require(actionBlocks.first?["elements"]?.arrayValue)
        #expect(Set(buttons.compactMap { $0["action_id"]?.stringValue }) == Set(expected))
        #expect(buttons.count == expected.count)
        for button in buttons {
            #expect(button["value"] == "A42")
            #expect(button["type"] == "button")
            #expect((button["text"]?["text"]?.stringValue?.count ?? 0) <= 75)
        }
    }

    @Test func fieldsNameTheSubjectAndTheStatus() throws {
        var alert = F.alert(.acknowledged)
        alert.subject = Subject(slackUserID: "U024BE7LH", ip: "203.0.113.7")
        let (text, blocks) = AlertMessage.render(alert)
        let fields = try #require(blocks.arrayValue?.first { $0["fields"] != nil }?["fields"]?.arrayValue).compactMap { $0["text"]?.stringValue }
        #expect(fields.contains { $0.contains("<@U024BE7LH>") })
        #expect(fields.contains { $0.contains("203.0.113.7") })
        #expect(fields.contains { $0.contains("Acknowledged by <@\(F.alice)>") })
        #expect(fields.contains { $0.contains(alert.id) })
        #expect(text.contains("acknowledged"))
    }
}
