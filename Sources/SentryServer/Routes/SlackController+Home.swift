import Foundation
import Hummingbird
import Logging
import SentryCore
import SentryStore

/// The App Home tab, published when a user opens it.
extension SlackController {
    /// Reads what the tab shows and publishes it for `userID`, and keeps it fresh while something on it changes
    /// (`HomeRefresher`). Runs beside the event's answer: Slack wants the 200 within 3 seconds, and publishing
    /// the same view twice (a retried event) is harmless.
    func publishHome(userID: String) {
        let context = context
        context.home.opened(by: userID, at: context.clock.now())
        Task { await HomeRefresher.publish(for: userID, context: context) }
    }
}

/// Keeps the Home tabs people opened fresh: when something on them may have changed (an alert's state, a
/// containment, a snooze), each is published again, at most once per `pace` for all of them together, so a
/// burst of clicks costs one round of `views.publish` calls. A tab not opened for a week is left alone (its
/// owner gets a fresh one when they open it). Each replica refreshes the tabs opened through it.
public final class HomeRefresher: Sendable {
    struct State {
        var openedAt: [String: Date] = [:]
        var changed = false
    }

    private let state = Locked(State())
    /// Tabs kept fresh at most; the least recently opened are dropped first.
    static let maximumTabs = 200
    static let keepFor: TimeInterval = 7 * 86_400

    public init() {}

    /// A user opened the tab (it is published at once, by the caller).
    public func opened(by userID: String, at now: Date) {
        state.withLock { state in
            state.openedAt[userID] = now
            if state.openedAt.count > Self.maximumTabs, let oldest = state.openedAt.min(by: { $0.value < $1.value })?.key {
                state.openedAt[oldest] = nil
            }
        }
    }

    /// Something the tabs show may have changed.
    public func changed() {
        state.withLock { $0.changed = true }
    }

    /// The tabs to publish again now (and the change is then taken as handled); empty when nothing changed.
    func due(now: Date) -> [String] {
        state.withLock { state in
            guard state.changed else { return [] }
            state.changed = false
            state.openedAt = state.openedAt.filter { now.timeIntervalSince($0.value) < Self.keepFor }
            return state.openedAt.keys.sorted()
        }
    }

    /// Every `pace`, publishes the opened tabs again if something changed since the last round. The responders' page
    /// is read from the store once per round, whoever it is published for.
    func run(context: SentryContext, pace: Duration) async {
        while !Task.isCancelled {
            do { try await context.clock.sleep(for: pace) } catch { return }
            let users = due(now: context.clock.now())
            guard !users.isEmpty else { continue }
            let now = context.clock.now()
            let snapshot: HomeView.Snapshot
            do { snapshot = try await Self.snapshot(context, now: now) } catch {
                context.logger.warning("could not read the Home tab", metadata: ["error": "\(error)"])
                continue
            }
            for userID in users {
                if Task.isCancelled { return }
                await Self.publish(for: userID, snapshot: snapshot, now: now, context: context)
            }
        }
    }

    /// Reads what the tab shows for `userID` and publishes it.
    static func publish(for userID: String, context: SentryContext) async {
        let now = context.clock.now()
        do {
            await publish(for: userID, snapshot: try await snapshot(context, now: now), now: now, context: context)
        } catch {
            context.logger.warning("could not publish the Home tab", metadata: ["slack.user": "\(userID)", "error": "\(error)"])
        }
    }

    /// Alerts read for each list at most: the view shows a few dozen lines, counts the rest, and says when the
    /// store held more open alerts than it read.
    static let readLimit = 500

    /// What a responder's tab shows at `now`.
    static func snapshot(_ context: SentryContext, now: Date) async throws -> HomeView.Snapshot {
        let open: [AlertStatus] = [.open, .acknowledged]
        return HomeView.Snapshot(
            alerts: try await context.store.alerts(statuses: open, limit: readLimit),
            openCount: try await context.store.alertCount(statuses: open),
            holdingContainments: try await context.store.alertsHoldingActiveContainments(limit: readLimit),
            snoozed: try await context.store.alerts(withTimer: .snoozeExpiry, limit: readLimit),
            last24h: try await context.store.alertCount(createdSince: now.addingTimeInterval(-86_400)),
            last7d: try await context.store.alertCount(createdSince: now.addingTimeInterval(-7 * 86_400)),
            responders: everyResponder(context), collectors: try await collectors(context))
    }

    /// Who answers, for the visitors' page: `SLACK_RESPONDERS` and every playbook's own responders, each once.
    static func everyResponder(_ context: SentryContext) -> [String] {
        var seen = Set<String>()
        return (context.configuration.responders + context.catalog.playbooks.flatMap(\.responders)).filter { seen.insert($0).inserted }
    }

    /// Publishes the responders' page to a responder, the visitors' page (what the bot is, who answers) to anyone else.
    static func publish(for userID: String, snapshot: HomeView.Snapshot, now: Date, context: SentryContext) async {
        let everyResponder = context.catalog.playbooks.flatMap(\.responders)
        let responder = await context.responders.mayActOnAlerts(userID: userID, playbookResponders: everyResponder)
        let page = responder ? snapshot : HomeView.Snapshot(alerts: [], last24h: 0, last7d: 0, responders: snapshot.responders)
        do {
            try await context.slack.publishView(userID: userID, view: HomeView.render(page, responder: responder, now: now))
        } catch {
            context.logger.warning("could not publish the Home tab", metadata: ["slack.user": "\(userID)", "error": "\(error)"])
        }
    }

    /// The collectors' health as this replica knows it; pollers that run on another replica say where.
    static func collectors(_ context: SentryContext) async throws -> [HomeView.Collector] {
        let samples = await context.metrics.collectorSamples()
        var leader: String?
        if samples.contains(where: { $0.sample.polls }), !context.leadership.leading {
            leader = try await (context.store as? any LeadershipStore)?.leader(LeaderElector.role, now: context.clock.now()) ?? "no replica yet"
        }
        return samples.map { name, sample in
            HomeView.Collector(
                name: name, lastSuccessAt: sample.lastSuccessAt, lag: sample.lag, failedPolls: sample.failedPolls ?? 0,
                lastError: sample.lastError, runsOn: sample.polls ? leader : nil)
        }
    }
}
