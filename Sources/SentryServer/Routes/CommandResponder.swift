import Foundation
import SentryCore
import SentryStore

/// Answers `/sentry …` within Slack's 3 seconds, as an ephemeral message.
struct CommandResponder {
    let context: SentryContext

    static let usage = """
        *Sentry* — incident response in Slack
        • `/sentry help` — this message
        • `/sentry alerts` — open and acknowledged alerts
        • `/sentry alert ID` — one alert, for example `/sentry alert A-7K3M9Q2X`
        Alerts arrive in the alert channel with buttons: *Acknowledge*, *Resolve*, *Dismiss*.
        """

    func answer(_ command: SlashCommand) async throws -> JSONValue {
        let words = command.text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        switch words.first?.lowercased() {
        case nil, "help":
            return ephemeral(Self.usage)
        case "alerts":
            return ephemeral(try await alertsList())
        case "alert":
            guard words.count == 2 else { return ephemeral("Usage: `/sentry alert ID`, for example `/sentry alert A-7K3M9Q2X`.") }
            return ephemeral(try await alertDetail(words[1].uppercased()))
        case "uplinks", "block-ip", "unblock-ip":
            return ephemeral("`/sentry \(words[0].lowercased())` is not available in this version of Sentry yet.\n\n" + Self.usage)
        default:
            let word = AlertMessage.escape(String(words[0].prefix(40)))
            return ephemeral("Sentry does not know `\(word)`.\n\n" + Self.usage)
        }
    }

    func alertsList() async throws -> String {
        let alerts = try await context.store.alerts(statuses: [.open, .acknowledged], limit: 21)
        guard !alerts.isEmpty else { return ":white_check_mark: No open alerts." }
        var lines = alerts.prefix(20).map { alert in
            "\(alert.severity.emoji) `\(alert.id)` *\(AlertMessage.escape(alert.title))* — \(AlertMessage.statusLine(alert))"
        }
        if alerts.count > 20 { lines.append("…and more; the oldest are not shown.") }
        return "*Open alerts*\n" + lines.joined(separator: "\n")
    }

    func alertDetail(_ id: String) async throws -> String {
        guard AlertID.isWellFormed(id), let alert = try await context.store.alert(id: id) else {
            return "No alert `\(AlertMessage.escape(String(id.prefix(20))))`. `/sentry alerts` lists the open ones."
        }
        var lines = [
            "\(alert.severity.emoji) *\(AlertMessage.escape(alert.title))* `\(alert.id)`",
            AlertMessage.statusLine(alert),
            "Detection `\(alert.detection)`, playbook `\(alert.playbookID)`, seen \(alert.occurrences)×, opened \(SlackDate.format(alert.createdAt))",
        ]
        if let summary = alert.summary { lines.append(AlertMessage.escape(summary)) }
        if let message = alert.message { lines.append("Message in <#\(message.channel)>") }
        return lines.joined(separator: "\n")
    }

    /// The short status an @-mention gets.
    func statusLine() async throws -> String {
        let counts = try await context.store.countAlerts()
        let open = counts[.open] ?? 0
        let acknowledged = counts[.acknowledged] ?? 0
        return ":shield: Sentry is up. Open alerts: \(open), acknowledged: \(acknowledged). Try `/sentry help`."
    }

    func ephemeral(_ text: String) -> JSONValue {
        ["response_type": "ephemeral", "text": .string(AlertMessage.truncate(text, 3_000))]
    }
}
