import Foundation

/// `/sentry stats` and the weekly digest: the same numbers as Block Kit and as plain text.
public enum StatsMessage {
    /// The periods `/sentry stats` knows (DESIGN.md: `stats [7d|30d]`), in days.
    public static func days(_ word: String?) -> Int? {
        switch word?.lowercased() {
        case nil, "7d": 7
        case "30d": 30
        default: nil
        }
    }

    public static func render(_ stats: AlertStats, title: String) -> (text: String, blocks: JSONValue) {
        let lines = sections(stats)
        var blocks: [JSONValue] = [
            ["type": "header", "text": ["type": "plain_text", "text": .string(BlockKitText.truncate(title, 150)), "emoji": true]],
            ["type": "context", "elements": [["type": "mrkdwn", "text": .string(period(stats))]]],
        ]
        blocks += lines.map { AlertMessage.section(BlockKitText.truncate($0, 3_000)) }
        return (BlockKitText.truncate(([title, period(stats)] + lines).joined(separator: "\n"), 3_900), .array(blocks))
    }

    static func period(_ stats: AlertStats) -> String {
        "\(SlackDate.format(stats.from)) – \(SlackDate.format(stats.to)) · \(stats.total) alert\(stats.total == 1 ? "" : "s")"
    }

    static func sections(_ stats: AlertStats) -> [String] {
        let playbooks = stats.perPlaybook.prefix(10).map { "• `\(AlertMessage.escape($0.name))` \($0.count)" }
        let more = stats.perPlaybook.count > 10 ? ["…and \(stats.perPlaybook.count - 10) more playbooks"] : []
        return [
            "*Alerts per playbook*\n" + (playbooks.isEmpty ? "_none_" : (playbooks + more).joined(separator: "\n")),
            "*Time to acknowledge* " + spread(stats.timeToAcknowledge) + "\n*Time to resolve* " + spread(stats.timeToResolve),
            "*Containments* placed \(stats.containmentsPlaced) · approved \(stats.containmentsApproved) · rejected \(stats.containmentsRejected)"
                + " · rolled back \(stats.containmentsRolledBack)",
            "*Noisiest detections*\n" + top(stats.noisiestDetections, code: true) + "\n*Noisiest subjects*\n"
                + top(stats.noisiestSubjects, code: false),
            "*Last 7 days* \(AlertStats.sparkLine(stats.lastSevenDays))  (\(stats.lastSevenDays.map(String.init).joined(separator: " ")))",
        ]
    }

    static func spread(_ spread: AlertStats.Spread) -> String {
        guard let median = spread.median, let p90 = spread.p90 else { return "_no alerts_" }
        return "median \(duration(median)) · p90 \(duration(p90)) (\(spread.samples) alert\(spread.samples == 1 ? "" : "s"))"
    }

    static func top(_ counts: [AlertStats.Count], code: Bool) -> String {
        guard !counts.isEmpty else { return "_none_" }
        return counts.map { count in
            let name = isMention(count.name) ? count.name : AlertMessage.escape(String(count.name.prefix(80)))
            return "• \(code ? "`\(name)`" : name) \(count.count)"
        }.joined(separator: "\n")
    }

    /// `<@U024BE7LH>` as `AlertStats.label` writes a Slack user: shown as a mention, which cannot inject anything else.
    static func isMention(_ text: String) -> Bool {
        text.hasPrefix("<@") && text.hasSuffix(">") && text.count > 3
            && text.dropFirst(2).dropLast().allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }

    /// `45s`, `12m`, `3h 20m`, `2d 4h`.
    public static func duration(_ seconds: TimeInterval) -> String {
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3_600 { return "\(total / 60)m" }
        if total < 86_400 { return total % 3_600 / 60 == 0 ? "\(total / 3_600)h" : "\(total / 3_600)h \(total % 3_600 / 60)m" }
        return total % 86_400 / 3_600 == 0 ? "\(total / 86_400)d" : "\(total / 86_400)d \(total % 86_400 / 3_600)h"
    }
}
