import CoreMetrics
import Foundation
import Metrics
import Prometheus
import SentryCore
import SentryStore

/// Everything `/metrics` shows. Code records through swift-metrics (`Counter`, `Gauge`, `Timer`) bound to
/// this instance's Prometheus registry, so two servers in one process (tests) never share counts. Every metric
/// name and its help text is in this file.
public final class ServerMetrics: Sendable {
    public enum Name {
        public static let requests = "sentry_http_requests_total"
        public static let verificationFailures = "sentry_verification_failures_total"
        public static let bodiesRefused = "sentry_http_bodies_refused_total"
        public static let effects = "sentry_effects_total"
        public static let alerts = "sentry_alerts"
        public static let containments = "sentry_containments"
        public static let outboxDepth = "sentry_outbox_pending"
        public static let outboxFailed = "sentry_outbox_failed"
        public static let upstreamRequests = "sentry_upstream_requests_total"
        public static let upstreamDuration = "sentry_upstream_request_duration_seconds"
        public static let rateLimitWaits = "sentry_rate_limit_waits_total"
        public static let rateLimitWaitSeconds = "sentry_rate_limit_wait_seconds_total"
        public static let collectorPolls = "sentry_collector_polls_total"
        public static let collectorEvents = "sentry_collector_events_total"
        public static let collectorDropped = "sentry_collector_dropped_total"
        public static let collectorLag = "sentry_collector_lag_seconds"
        public static let residentMemory = "process_resident_memory_bytes"
        public static let storageMemory = "sentry_storage_memory_bytes"
        public static let openFDs = "process_open_fds"
        public static let startTime = "process_start_time_seconds"
        public static let slackFallbacks = "sentry_slack_fallback_messages_total"
        public static let socketsOpen = "sentry_socket_mode_connections"
        public static let socketReconnects = "sentry_socket_mode_reconnects_total"
        public static let socketEnvelopes = "sentry_socket_mode_envelopes_total"
        public static let socketAckLatency = "sentry_socket_mode_ack_seconds"
        public static let pollerLeader = "sentry_poller_leader"
        public static let engineDetections = "sentry_engine_detections_total"
    }

    static let help: [String: String] = [
        Name.pollerLeader: "1 on the replica that runs the pollers (Slack audit, Meraki uplinks), 0 on the others",
        Name.requests: "HTTP requests answered, by endpoint and status",
        Name.verificationFailures: "Signature or token checks that failed, by reason",
        Name.bodiesRefused:
            "Request bodies refused as the client's error (broken chunking, cut short, unknown transfer coding, too large), by endpoint and reason",
        Name.effects: "Outbox effects executed, by effect and result (error: will be retried or has failed)",
        Name.alerts: "Alerts in the database, by status",
        Name.containments: "Containments in the database, by kind and state",
        Name.outboxDepth: "Effects waiting in the outbox",
        Name.outboxFailed: "Effects that gave up after their last attempt",
        Name.upstreamRequests: "Calls to Slack and Meraki, by API and HTTP status (or transport error)",
        Name.upstreamDuration: "Time of calls to Slack and Meraki, by API",
        Name.rateLimitWaits: "Waits for a rate limit or before a retry (429 Retry-After, backoff after 5xx), by limiter",
        Name.rateLimitWaitSeconds: "Seconds spent in those waits, by limiter",
        Name.collectorPolls: "Collector polls, by collector and result",
        Name.collectorEvents: "Events collectors handed to the detection rules, by collector",
        Name.collectorDropped: "Events a collector lost (syslog queue full), by collector",
        Name.collectorLag: "Seconds since the collector last completed a poll (polling collectors only)",
        Name.residentMemory: "Resident memory of the process",
        Name.storageMemory: "Memory the embedded database holds in this process (SQLite: page caches, statements)",
        Name.openFDs: "Open file descriptors of the process",
        Name.startTime: "When the process started, in seconds since the Unix epoch",
        Name.slackFallbacks: "Alert messages Slack refused as rendered and that went out in the minimal form instead, by effect",
        Name.socketsOpen: "Socket Mode connections open (hello received)",
        Name.socketReconnects: "Socket Mode connections replaced or reopened, by reason",
        Name.socketEnvelopes: "Socket Mode envelopes received, by type and outcome",
        Name.socketAckLatency: "Time from a Socket Mode envelope's arrival to its ack",
        Name.engineDetections:
            "Detections from engine hooks (/hooks/<engine>), by engine and what became of them (created, grouped, duplicate, resolved, remembered, ignored) or why the body was refused (bad_body, wrong_engine, no_playbook)",
    ]

    /// What a collector reports when `/metrics` is read.
    public struct CollectorSample: Sendable {
        /// Finished polls (nil for a listener, which does not poll).
        public var succeededPolls: Int?
        public var failedPolls: Int?
        public var events: Int
        public var dropped: Int?
        public var lastSuccessAt: Date?
        /// How far behind its source the collector is, when it knows.
        public var lag: TimeInterval?
        /// Why the last poll failed, one line; nil when it succeeded.
        public var lastError: String?
        /// Whether it runs only on the pollers' leader (a poller, not a listener).
        public var polls: Bool { succeededPolls != nil }

        public init(
            succeededPolls: Int? = nil, failedPolls: Int? = nil, events: Int, dropped: Int? = nil, lastSuccessAt: Date?, lag: TimeInterval? = nil,
            lastError: String? = nil
        ) {
            self.succeededPolls = succeededPolls
            self.failedPolls = failedPolls
            self.events = events
            self.dropped = dropped
            self.lastSuccessAt = lastSuccessAt
            self.lag = lag
            self.lastError = lastError
        }
    }

    /// Every registered collector's sample, by name (the Home tab's health lines).
    public func collectorSamples() async -> [(name: String, sample: CollectorSample)] {
        var samples: [(name: String, sample: CollectorSample)] = []
        for (name, sample) in collectors.current { samples.append((name, await sample())) }
        return samples
    }

    public let registry: PrometheusCollectorRegistry
    /// When this server's metrics began: the process start as far as an operator is concerned.
    private let started = Date()
    public let factory: PrometheusMetricsFactory
    private let collectors = Locked<[(name: String, sample: @Sendable () async -> CollectorSample)]>([])
    /// Totals already added to counters that mirror a collector's own count.
    private let mirrored = Locked<[String: Int]>([:])

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets[Name.upstreamDuration] = [
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        ]
        factory.durationHistogramBuckets[Name.socketAckLatency] = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(500),
            .seconds(1), .seconds(2), .seconds(3),
        ]
        self.factory = factory
    }

    // MARK: recording

    public func request(endpoint: String, status: Int) {
        let key = RequestKey(endpoint: endpoint, status: status)
        if let made = requestCounters.withLock({ $0[key] }) { return made.increment() }
        let made = counter(Name.requests, ("endpoint", endpoint), ("status", String(status)))
        requestCounters.withLock { $0[key] = made }
        made.increment()
    }

    public func verificationFailed(reason: String) {
        counter(Name.verificationFailures, ("reason", reason)).increment()
    }

    /// One detection of an engine's hook, or a refused body of it.
    public func engineDetection(engine: String, status: String) {
        counter(Name.engineDetections, ("engine", engine), ("status", status)).increment()
    }

    /// A body the client broke or made too large, answered 4xx before anything read it.
    public func bodyRefused(endpoint: String, reason: String) {
        counter(Name.bodiesRefused, ("endpoint", endpoint), ("reason", reason)).increment()
    }

    public func effectFinished(_ kind: String, ok: Bool) {
        counter(Name.effects, ("effect", kind), ("result", ok ? "ok" : "error")).increment()
    }

    /// Slack refused an alert message's blocks and the minimal form was sent instead.
    public func slackFallback(_ kind: String) {
        counter(Name.slackFallbacks, ("effect", kind)).increment()
    }

    /// One call to an upstream API; `status` is the HTTP status or a transport failure ("timeout", …).
    public func upstream(api: String, status: String, duration: Duration) {
        counter(Name.upstreamRequests, ("api", api), ("status", status)).increment()
        Metrics.Timer(label: Name.upstreamDuration, dimensions: [("api", api)], factory: factory).record(duration: duration)
    }

    /// A call waited `duration` for `limiter` (a token bucket, Slack's posting pace, or a 429's Retry-After).
    /// Zero and negative waits (a deadline that passed between two clock readings) are not waits.
    public func rateLimitWait(limiter: String, duration: Duration) {
        let seconds = duration.inSeconds
        guard seconds > 0 else { return }
        counter(Name.rateLimitWaits, ("limiter", limiter)).increment()
        CoreMetrics.FloatingPointCounter(label: Name.rateLimitWaitSeconds, dimensions: [("limiter", limiter)], factory: factory)
            .increment(by: seconds)
    }

    /// What a `TokenBucket` tells of each wait, recorded under `limiter`.
    public func waitRecorder(limiter: String) -> @Sendable (Duration) -> Void {
        { [self] wait in rateLimitWait(limiter: limiter, duration: wait) }
    }

    /// A connector's retry sleep that records each wait under `limiter`.
    public func meteredSleep(limiter: String) -> @Sendable (Duration) async throws -> Void {
        { [self] wait in
            rateLimitWait(limiter: limiter, duration: wait)
            try await Task.sleep(for: wait)
        }
    }

    /// Socket Mode: sockets open now, a reconnect and why, an envelope and what became of it, an ack's latency.
    public func socketsOpen(_ count: Int) { gauge(Name.socketsOpen, []).record(count) }
    public func socketReconnect(reason: String) { counter(Name.socketReconnects, ("reason", reason)).increment() }
    public func socketEnvelope(type: String, outcome: String) { counter(Name.socketEnvelopes, ("type", type), ("outcome", outcome)).increment() }
    public func socketAcked(after duration: Duration) {
        Metrics.Timer(label: Name.socketAckLatency, dimensions: [], factory: factory).record(duration: duration)
    }

    /// Asks `sample` for the collector's counters each time `/metrics` is read.
    public func addCollector(_ name: String, sample: @escaping @Sendable () async -> CollectorSample) {
        collectors.withLock { $0.append((name, sample)) }
    }

    /// Counters by name and labels, made once: the request path then costs one dictionary lookup.
    private let counters = Locked<[[String]: CoreMetrics.Counter]>([:])

    /// `sentry_http_requests_total` by endpoint and status, counted on every request: found without building the
    /// labels' key (an array of four strings, the status formatted) each time.
    private struct RequestKey: Hashable {
        let endpoint: String
        let status: Int
    }

    private let requestCounters = Locked<[RequestKey: CoreMetrics.Counter]>([:])

    private func counter(_ name: String, _ dimensions: (String, String)...) -> CoreMetrics.Counter {
        var key = [name]
        key.reserveCapacity(1 + 2 * dimensions.count)
        for (label, value) in dimensions { key += [label, value] }
        if let made = counters.withLock({ $0[key] }) { return made }
        let made = CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory)
        counters.withLock { $0[key] = made }
        return made
    }

    private func gauge(_ name: String, _ dimensions: [(String, String)]) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: name, dimensions: dimensions, factory: factory)
    }

    // MARK: exposition

    /// Sets the gauges read from the store and the collectors, then renders the Prometheus text.
    public func render(store: StoreGauges, leadership: LeadershipStatus? = nil, now: Date = Date()) async -> String {
        if let leadership { gauge(Name.pollerLeader, [("replica", leadership.holder)]).record(leadership.leading ? 1 : 0) }
        for status in AlertStatus.allCases {
            gauge(Name.alerts, [("status", status.rawValue)]).record(store.alertsByStatus[status] ?? 0)
        }
        for kind in ContainmentAction.Kind.allCases {
            for status in Containment.Status.allCases {
                gauge(Name.containments, [("kind", kind.rawValue), ("state", status.rawValue)])
                    .record(store.containments[kind]?[status] ?? 0)
            }
        }
        gauge(Name.outboxDepth, []).record(store.outboxPending)
        gauge(Name.outboxFailed, []).record(store.outboxFailed)
        if let bytes = store.storageMemoryBytes { gauge(Name.storageMemory, []).record(bytes) }
        gauge(Name.startTime, []).record(started.timeIntervalSince1970)
        if let process = ProcessSample.read() {
            gauge(Name.residentMemory, []).record(process.residentBytes)
            gauge(Name.openFDs, []).record(process.openFDs)
        }
        for (name, sample) in collectors.current {
            let s = await sample()
            if let succeeded = s.succeededPolls, let failed = s.failedPolls {
                mirror(Name.collectorPolls, ("collector", name), ("result", "ok"), total: succeeded)
                mirror(Name.collectorPolls, ("collector", name), ("result", "error"), total: failed)
            }
            mirror(Name.collectorEvents, ("collector", name), total: s.events)
            if let dropped = s.dropped { mirror(Name.collectorDropped, ("collector", name), total: dropped) }
            if let last = s.lastSuccessAt {
                gauge(Name.collectorLag, [("collector", name)]).record(max(0, now.timeIntervalSince(last)))
            }
        }
        return Self.addingHelp(to: registry.emitToString())
    }

    /// Brings a counter up to a total kept elsewhere (a collector's own count), so it stays a counter.
    private func mirror(_ name: String, _ dimensions: (String, String)..., total: Int) {
        let key = ([name] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: "|")
        let delta = mirrored.withLock { seen -> Int in
            let delta = total - (seen[key] ?? 0)
            if delta > 0 { seen[key] = total }
            return delta
        }
        let counter = CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory)
        counter.increment(by: max(0, delta))
    }

    /// swift-metrics carries no help text; a `# HELP` line goes before each family's `# TYPE` line.
    static func addingHelp(to text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 2048)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE ") {
                let name = line.dropFirst(7).prefix { $0 != " " }
                if let help = help[String(name)] { out += "# HELP \(name) \(help)\n" }
            }
            out += line
            out += "\n"
        }
        while out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }

    /// The current value of one series, `labels` as `key="value"` in the order recorded (tests, diagnostics).
    public func value(_ name: String, _ labels: [String]) -> Int {
        let prefix = labels.isEmpty ? name + " " : "\(name){\(labels.joined(separator: ","))} "
        for line in registry.emitToString().split(separator: "\n") where line.hasPrefix(prefix) {
            return Int(Double(line.dropFirst(prefix.count)) ?? 0)
        }
        return 0
    }
}

/// Memory and file descriptors from /proc (Linux); nil elsewhere.
struct ProcessSample {
    var residentBytes: Int
    var openFDs: Int

    static func read() -> ProcessSample? {
        // statm: size resident shared … in pages.
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return ProcessSample(residentBytes: pages * Int(sysconf(Int32(_SC_PAGESIZE))), openFDs: descriptors)
    }
}
