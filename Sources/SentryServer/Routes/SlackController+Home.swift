import Foundation
import Hummingbird
import Logging
import SentryCore
import SentryStore

/// The App Home tab, published when a user opens it.
extension SlackController {
    /// Reads what the tab shows and publishes it for `userID`. Runs beside the event's answer: Slack wants the
    /// 200 within 3 seconds, and publishing the same view twice (a retried event) is harmless.
    func publishHome(userID: String) {
        let context = context
        Task {
            do {
                let now = context.clock.now()
                let everyResponder = context.catalog.playbooks.flatMap(\.responders)
                let responder = await context.responders.mayActOnAlerts(userID: userID, playbookResponders: everyResponder)
                let snapshot = HomeView.Snapshot(
                    alerts: responder ? try await context.store.alerts(statuses: [.open, .acknowledged], limit: 500) : [],
                    last24h: responder ? try await context.store.alertCount(createdSince: now.addingTimeInterval(-86_400)) : 0,
                    last7d: responder ? try await context.store.alertCount(createdSince: now.addingTimeInterval(-7 * 86_400)) : 0,
                    responders: context.configuration.responders)
                try await context.slack.publishView(userID: userID, view: HomeView.render(snapshot, responder: responder, now: now))
            } catch {
                context.logger.warning("could not publish the Home tab", metadata: ["slack.user": "\(userID)", "error": "\(error)"])
            }
        }
    }
}
