import Foundation
import Logging
import SentryCore
import SentryEngine
import SentryStore

/// Everything the HTTP handlers need, passed in once.
public struct SentryContext: Sendable {
    public var configuration: ServerConfiguration
    public var store: any AlertStore
    /// Every change a request makes goes through the engine.
    public var engine: AlertEngine { AlertEngine(store: store) }
    public var catalog: PlaybookCatalog
    public var clock: any SentryClock
    public var metrics: ServerMetrics
    public var responders: ResponderDirectory
    public var slack: any SlackMessaging
    /// Meraki uplinks for `/sentry uplinks`; nil when Meraki is not configured.
    public var uplinks: (any UplinkLookup)?
    public var logger: Logger
    /// Called after a write that queued effects.
    public var wake: @Sendable () -> Void
    /// Email and UPN subjects of engine detections as Slack users; nil when the Slack client cannot look them up.
    public var emails: EmailDirectory?
    /// Set when Slack's callbacks come over Socket Mode (`SLACK_APP_TOKEN`): `/readyz` reports its stop.
    public var socketMode: SocketModeStatus?
    /// This replica's name and whether it leads the pollers (`/readyz` and `/metrics` say who leads).
    public var leadership = LeadershipStatus(holder: "unnamed")
    /// The Home tabs opened through this replica, published again when what they show changes.
    public var home = HomeRefresher()

    public init(
        configuration: ServerConfiguration, store: any AlertStore, catalog: PlaybookCatalog, clock: any SentryClock,
        metrics: ServerMetrics, responders: ResponderDirectory, slack: any SlackMessaging, uplinks: (any UplinkLookup)? = nil, logger: Logger,
        wake: @escaping @Sendable () -> Void
    ) {
        self.slack = slack
        self.uplinks = uplinks
        self.configuration = configuration
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.metrics = metrics
        self.responders = responders
        self.logger = logger
        self.wake = wake
    }
}
