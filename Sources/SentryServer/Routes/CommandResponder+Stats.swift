import Foundation
import SentryCore
import SentryEngine

/// `/sentry stats [7d|30d]`.
extension CommandResponder {
    static let statsUsage = "Usage: `/sentry stats [7d|30d]` — numbers of the last 7 (default) or 30 days."
    /// How long the command waits for the store before answering "working on it" and following up.
    static let statsDeadline: Duration = .seconds(2)

    func stats(_ words: [String], command: SlashCommand) async throws -> JSONValue {
        guard words.count <= 2, let days = StatsMessage.days(words.count == 2 ? words[1] : nil) else { return ephemeral(Self.statsUsage) }
        let everyResponder = context.catalog.playbooks.flatMap(\.responders)
        guard await context.responders.mayActOnAlerts(userID: command.userID, playbookResponders: everyResponder) else {
            return ephemeral("Sorry, only responders can see the numbers.")
        }
        let engine = context.engine
        let now = context.clock.now()
        let logger = context.logger
        let fetch = Task { () -> JSONValue in
            do {
                let stats = try await engine.stats(days: days, now: now)
                let rendered = StatsMessage.render(stats, title: "Sentry — last \(days) days")
                return ["response_type": "ephemeral", "text": .string(rendered.text), "blocks": rendered.blocks]
            } catch {
                logger.warning("stats read failed", metadata: ["error": "\(error)"])
                return ["response_type": "ephemeral", "text": .string("Could not read the numbers: \(FailureClass.userFacing(error)).")]
            }
        }
        if let quick = await value(of: fetch, within: Self.statsDeadline) { return quick }
        // A slow store: answer now, follow up through response_url when the numbers are ready.
        let slack = context.slack
        Task {
            let message = await fetch.value
            guard let url = command.responseURL else { return }
            do {
                try await slack.respond(
                    to: url, text: message["text"]?.stringValue ?? "Stats", blocks: message["blocks"], responseType: .ephemeral,
                    replaceOriginal: false)
            } catch {
                logger.warning("stats follow-up failed", metadata: ["error": "\(error)"])
            }
        }
        return ephemeral(":hourglass_flowing_sand: Counting; the numbers follow here.")
    }
}
