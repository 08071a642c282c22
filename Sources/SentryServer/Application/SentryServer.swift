import Foundation
import Hummingbird
import Logging
import NIOCore
import SentryConnectors
import SentryCore
import SentryStore
import ServiceLifecycle

/// Wires the store, the Slack client, the routes, the effect runner and the timer scheduler into one
/// Hummingbird application.
public struct SentryServer: Sendable {
    public let context: SentryContext
    public let runner: EffectRunner
    public let scheduler: TimerScheduler
    /// How often, at most, opened Home tabs are published again after a change.
    public var homePace: Duration = .seconds(30)

    public init(
        configuration: ServerConfiguration, catalog: PlaybookCatalog, store: any AlertStore, slack: any SlackMessaging,
        clock: any SentryClock = SystemClock(), metrics: ServerMetrics = ServerMetrics(), logger: Logger,
        runnerPollInterval: Duration = .seconds(1), timerInterval: Duration = .seconds(1),
        containment: (any ContainmentExecutor)? = nil, uplinks: (any UplinkLookup)? = nil, pacer: SlackPacer? = nil
    ) {
        let pacer = pacer ?? SlackPacer(clock: clock, onWait: { metrics.rateLimitWait(limiter: $0, duration: $1) })
        // Whatever queues work, and every effect that has run, may change what the Home tabs show.
        let home = HomeRefresher()
        let runner = EffectRunner(
            store: store, slack: slack, clock: clock, logger: logger, metrics: metrics, pollInterval: runnerPollInterval,
            containment: containment, pacer: pacer, lease: .seconds(configuration.effectLease), onEffectDone: { home.changed() })
        self.runner = runner
        self.scheduler = TimerScheduler(
            store: store, clock: clock, logger: logger, interval: timerInterval, retention: TimeInterval(configuration.retention)
        ) {
            runner.wake()
            home.changed()
        }
        var context = SentryContext(
            configuration: configuration, store: store, catalog: catalog, clock: clock, metrics: metrics,
            responders: ResponderDirectory(responders: configuration.responders, slack: slack, clock: clock, logger: logger),
            slack: slack, uplinks: uplinks, logger: logger,
            wake: {
                runner.wake()
                home.changed()
            })
        context.home = home
        if configuration.slackAppToken != nil { context.socketMode = SocketModeStatus() }
        // One name per replica: on its effect leases and in the pollers' leadership row.
        context.leadership = LeadershipStatus(holder: runner.owner)
        context.emails = (slack as? any SlackEmailLookup).map { EmailDirectory(lookup: $0, clock: clock, logger: logger) }
        self.context = context
    }

    /// The endpoints of DESIGN.md §4.3, one route collection per group. Over Socket Mode there are no Slack
    /// routes: `/slack/*` answer 404.
    public func router() -> Router<SentryRequestContext> {
        let router = Router(context: SentryRequestContext.self)
        if context.configuration.slackAppToken == nil {
            router.addRoutes(SlackController(context: context).endpoints, atPath: "/slack")
        }
        router.addRoutes(DetectionHookController(context: context).endpoints, atPath: "/hooks")
        router.addRoutes(EngineHookController(context: context).endpoints, atPath: "/hooks")
        router.addRoutes(OperationsController(context: context).endpoints)
        return router
    }

    /// Sets (or removes) the weekly digest's timer row to match `SENTRY_DIGEST`; a failure is logged and the
    /// server runs on (the next start tries again).
    public func scheduleDigest() async {
        let configuration = context.configuration
        do {
            let due = try await context.engine.scheduleDigest(
                configuration.digest, channel: configuration.slackAlertChannel, now: context.clock.now())
            if let due, let digest = configuration.digest {
                context.logger.info("weekly digest scheduled", metadata: ["digest": "\(digest.text)", "digest.next": "\(Timestamp.iso8601(due))"])
            }
        } catch {
            context.logger.error("could not schedule the weekly digest", metadata: ["error": "\(error)"])
        }
    }

    /// The application with the runner and scheduler as services; `onRunning` receives the bound port.
    /// Services stop in the reverse of their order: `stoppingLast` after the runner has finished its effects,
    /// `extraServices` before the scheduler.
    public func application(
        stoppingLast: [any Service] = [], extraServices: [any Service] = [],
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(),
            // A client that stops sending in the middle of a request is cut off instead of holding a connection.
            server: .http1(configuration: .init(idleTimeout: .seconds(Int64(context.configuration.httpIdleTimeout)))),
            configuration: .init(address: .hostname(context.configuration.host, port: context.configuration.port), serverName: nil),
            services: stoppingLast + [runner, scheduler, HomeRefreshing(context: context, pace: homePace)] + extraServices,
            onServerRunning: { channel in
                await scheduleDigest()
                await onRunning(channel.localAddress?.port ?? 0)
            },
            logger: context.logger)
    }
}

/// Publishes opened Home tabs again, paced, until shutdown. Its description names it only: ServiceLifecycle logs
/// services by description, and the context holds the configuration's secrets.
struct HomeRefreshing: Service, CustomStringConvertible {
    var description: String { "HomeRefreshing" }
    let context: SentryContext
    let pace: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown { await context.home.run(context: context, pace: pace) }
    }
}
