import Foundation

/// The bot's App Home tab (`views.publish`): for responders, what is open, what is blocked, what is snoozed and
/// how busy it has been; for anyone else, what the bot is and who answers it.
public enum HomeView {
    /// What the Home tab shows, read from the store when it is opened.
    public struct Snapshot: Equatable, Sendable {
        /// Open and acknowledged alerts (any order: the view sorts them); the store may have read only the newest.
        public var alerts: [Alert]
        /// How many alerts are open or acknowledged in all.
        public var openCount: Int
        /// Alerts that hold an active containment, whatever their own status.
        public var holdingContainments: [Alert]
        /// Alerts with a snooze timer set.
        public var snoozed: [Alert]
        /// Alerts created in the last 24 hours and the last 7 days.
        public var last24h: Int
        public var last7d: Int
        /// Responder user ids and user-group ids, for the page non-responders see.
        public var responders: [String]
        /// The collectors, as this replica sees them.
        public var collectors: [Collector]

        /// Without `openCount`, `holdingContainments` or `snoozed`, they are taken from `alerts`.
        public init(
            alerts: [Alert], openCount: Int? = nil, holdingContainments: [Alert]? = nil, snoozed: [Alert]? = nil, last24h: Int, last7d: Int,
            responders: [String], collectors: [Collector] = []
        ) {
            self.alerts = alerts
            self.openCount = max(openCount ?? alerts.count, alerts.count)
            self.holdingContainments = holdingContainments ?? alerts
            self.snoozed = snoozed ?? alerts
            self.last24h = last24h
            self.last7d = last7d
            self.responders = responders
            self.collectors = collectors
        }
    }

    /// One collector's health: when it last read its source, how far behind it is, and its last error.
    public struct Collector: Equatable, Sendable {
        public var name: String
        /// nil: it has not read its source successfully since this replica started.
        public var lastSuccessAt: Date?
        /// How far behind the source its newest event is, when it knows.
        public var lag: TimeInterval?
        public var failedPolls: Int
        /// The last failure, one line; nil when the last poll succeeded.
        public var lastError: String?
        /// Another replica runs it (the pollers' leader), named here; nil when this one does, or for a listener.
        public var runsOn: String?

        public init(
            name: String, lastSuccessAt: Date?, lag: TimeInterval? = nil, failedPolls: Int = 0, lastError: String? = nil, runsOn: String? = nil
        ) {
            self.name = name
            self.lastSuccessAt = lastSuccessAt
            self.lag = lag
            self.failedPolls = failedPolls
            self.lastError = lastError
            self.runsOn = runsOn
        }
    }

    /// Alert lines at most; the rest are counted in one line, so the view stays inside Slack's 100 blocks.
    static let shownAlerts = 30
    static let shownContainments = 20

    public static func render(_ snapshot: Snapshot, responder: Bool, now: Date) -> JSONValue {
        responder ? responderView(snapshot, now: now) : visitorView(snapshot)
    }

    static func responderView(_ snapshot: Snapshot, now: Date) -> JSONValue {
        var blocks: [JSONValue] = [header("Sentry — what needs you")]
        blocks.append(
            context("Alerts created: \(snapshot.last24h) in the last 24 h, \(snapshot.last7d) in the last 7 days · as of \(SlackDate.format(now))"))

        // Most severe first, then newest.
        let alerts = snapshot.alerts.sorted { ($0.severity, $0.createdAt) > ($1.severity, $1.createdAt) }
        blocks.append(header("Open alerts (\(snapshot.openCount))"))
        if alerts.isEmpty { blocks.append(section(":white_check_mark: Nothing open.")) }
        for alert in alerts.prefix(shownAlerts) { blocks.append(section(alertLine(alert, now: now))) }
        if snapshot.openCount > shownAlerts {
            // More open than the store read: the lines are the most severe of the newest, and the view says so.
            let of = snapshot.openCount > alerts.count ? " (the most severe of the newest \(alerts.count))" : ""
            blocks.append(context("…and \(snapshot.openCount - min(shownAlerts, alerts.count)) more\(of); `/sentry alerts` lists them."))
        }

        let active = snapshot.holdingContainments.flatMap { alert in alert.containments.filter { $0.status == .active }.map { (alert, $0) } }
            .sorted { ($0.1.activeUntil ?? .distantFuture) < ($1.1.activeUntil ?? .distantFuture) }
        blocks.append(["type": "divider"])
        blocks.append(header("Active containments (\(active.count))"))
        if active.isEmpty { blocks.append(section("None in place.")) }
        for (alert, item) in active.prefix(shownContainments) {
            let left = item.activeUntil.map { "\(DurationText.format(max(0, Int($0.timeIntervalSince(now))))) left" } ?? "no expiry"
            let closed = alert.status.isFinished ? " (\(alert.status.rawValue))" : ""
            blocks.append([
                "type": "section",
                "text": [
                    "type": "mrkdwn",
                    "text": .string(
                        AlertMessage.truncate("\(Containment.label(item.kind, item.target)) · \(left) · alert `\(alert.id)`\(closed)", 3_000)),
                ],
                "accessory": AlertMessage.button(item.kind == .approvedOnly ? "Restore" : "Unblock", "unblock", item.id),
            ])
        }
        if active.count > shownContainments { blocks.append(context("…and \(active.count - shownContainments) more.")) }

        let snoozed = snapshot.snoozed.compactMap { alert in alert.snoozed(at: now).map { (alert, $0) } }.sorted { $0.1.until < $1.1.until }
        blocks.append(["type": "divider"])
        blocks.append(header("Snoozed (\(snoozed.count))"))
        if snoozed.isEmpty { blocks.append(section("No alert is snoozed.")) }
        for (alert, snooze) in snoozed.prefix(shownContainments) {
            let since = snooze.suppressed == 0 ? "" : " · \(snooze.suppressed) since"
            blocks.append([
                "type": "section",
                "text": [
                    "type": "mrkdwn",
                    "text": .string(
                        AlertMessage.truncate(
                            "`\(alert.id)` \(AlertMessage.escape(alert.title)) · until \(SlackDate.format(snooze.until)) by \(SlackID.mention(snooze.by))\(since)",
                            3_000)),
                ],
                "accessory": AlertMessage.button("Unsnooze", "unsnooze", alert.id),
            ])
        }
        if snoozed.count > shownContainments { blocks.append(context("…and \(snoozed.count - shownContainments) more; `/sentry snooze list`.")) }

        blocks.append(["type": "divider"])
        blocks.append(header("Collectors"))
        if snapshot.collectors.isEmpty { blocks.append(section("No collector is configured (webhooks only).")) }
        for collector in snapshot.collectors.prefix(10) { blocks.append(section(collectorLine(collector, now: now))) }
        return ["type": "home", "blocks": .array(blocks)]
    }

    static func collectorLine(_ collector: Collector, now: Date) -> String {
        let name = "*\(AlertMessage.escape(collector.name))*"
        if let leader = collector.runsOn { return "\(name) · runs on the pollers' leader, `\(AlertMessage.escape(String(leader.prefix(80))))`" }
        let health: String
        if let last = collector.lastSuccessAt {
            let ago = DurationText.format(max(0, Int(now.timeIntervalSince(last))))
            let lag = collector.lag.map { " · \(DurationText.format(max(0, Int($0)))) behind its source" } ?? ""
            health = (collector.lastError == nil ? ":large_green_circle:" : ":warning:") + " \(name) · last read \(ago) ago\(lag)"
        } else {
            health = (collector.lastError == nil ? ":hourglass:" : ":red_circle:") + " \(name) · not read yet"
        }
        guard let error = collector.lastError else { return health }
        let line = error.split(whereSeparator: \.isNewline).first.map(String.init) ?? error
        return AlertMessage.truncate(
            "\(health) · \(collector.failedPolls) failed · last error: \(AlertMessage.escape(String(line.prefix(200))))", 3_000)
    }

    static func visitorView(_ snapshot: Snapshot) -> JSONValue {
        let who =
            snapshot.responders.isEmpty
            ? "Anyone in the alert channel may acknowledge alerts; nobody may contain."
            : "Responders: "
                + snapshot.responders.prefix(20).map { $0.hasPrefix("S") ? "<!subteam^\($0)>" : SlackID.mention($0) }.joined(separator: ", ") + "."
        return [
            "type": "home",
            "blocks": [
                header("Sentry"),
                section(
                    "Sentry posts security alerts in the alert channel, and lets the responders acknowledge them, block a user or an IP (with approvals, automatic rollback and an audit trail), and snooze noisy detections."
                ),
                section(who),
                context("`/sentry help` lists what you can ask."),
            ],
        ]
    }

    static func alertLine(_ alert: Alert, now: Date) -> String {
        let age = DurationText.format(max(0, Int(now.timeIntervalSince(alert.createdAt))))
        let holder = alert.acknowledgedBy.map { "held by \(SlackID.mention($0))" } ?? "not acknowledged"
        let link = alert.message.map { " · <https://slack.com/app_redirect?channel=\($0.channel)&message_ts=\($0.ts)|message>" } ?? ""
        let title = AlertMessage.escape(alert.title)
        return AlertMessage.truncate("\(alert.severity.emoji) *\(title)* `\(alert.id)` · \(age) old · \(holder)\(link)", 3_000)
    }

    static func header(_ text: String) -> JSONValue {
        ["type": "header", "text": ["type": "plain_text", "text": .string(AlertMessage.truncate(text, 150)), "emoji": true]]
    }

    static func section(_ text: String) -> JSONValue {
        ["type": "section", "text": ["type": "mrkdwn", "text": .string(AlertMessage.truncate(text, 3_000))]]
    }

    static func context(_ text: String) -> JSONValue {
        ["type": "context", "elements": [["type": "mrkdwn", "text": .string(AlertMessage.truncate(text, 2_000))]]]
    }
}
