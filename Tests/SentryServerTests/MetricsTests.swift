import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// `/metrics` as an operator reads it: valid Prometheus text with help for every family, fed by real flows.
@Suite struct MetricsTests {
    /// Every sample line is `name{label="value",…} number`; every family has HELP and TYPE before its samples.
    static func checkExposition(_ text: String) {
        var described: Set<String> = []
        var typed: Set<String> = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") {
                described.insert(String(line.dropFirst(7).prefix { $0 != " " }))
            } else if line.hasPrefix("# TYPE ") {
                let name = String(line.dropFirst(7).prefix { $0 != " " })
                #expect(described.contains(name), "no HELP before TYPE of \(name)")
                typed.insert(name)
            } else {
                let name = String(line.prefix { $0 != "{" && $0 != " " })
                let family = ["_bucket", "_sum", "_count"].reduce(name) {
                    $0.hasSuffix($1) && !typed.contains($0) ? String($0.dropLast($1.count)) : $0
                }
                #expect(typed.contains(family), "sample before TYPE: \(line)")
                #expect(Double(line.split(separator: " ").last ?? "") != nil, "not a number: \(line)")
                if let open = line.firstIndex(of: "{") {
                    #expect(line.contains("} "), "unclosed labels: \(line)")
                    let labels = line[line.index(after: open)..<(line.firstIndex(of: "}") ?? line.endIndex)]
                    for pair in labels.split(separator: ",") {
                        #expect(pair.contains("=\"") && pair.hasSuffix("\""), "bad label \(pair) in \(line)")
                    }
                }
            }
        }
    }

    @Test func aContainmentFlowShowsUpInEveryFamily() async throws {
        try await withHarness(playbooks: ServerContainmentFlowTests.playbooks) { h in
            let path = "/networks/\(MerakiSimulator.mainOffice)/appliance/firewall/l3FirewallRules"
            h.meraki.inject([.status(503)], for: path, method: "PUT")
            let (alertID, ts) = try await h.postedAlert()
            let id = try await ServerContainmentFlowTests().requestBlock(h, alertID: alertID, ts: ts)
            let pending = try await h.client.send("GET", "/metrics").text
            #expect(pending.contains(#"sentry_containments{kind="block_ip",state="awaiting_approval"} 1"#))
            _ = try await h.client.click("approve", value: id, user: ServerHarness.bob, responseURL: h.responseURL, messageTS: ts)
            #expect(
                await eventually {
                    if try await h.store.alert(id: alertID)?.containments.first?.status == .active { return true }
                    h.clock.advance(by: 60)
                    return false
                })
            _ = try await h.client.slack("/slack/commands", form: ServerEndpointTests.helpForm)
            _ = try await h.client.send("POST", "/slack/commands", body: Array("text=help".utf8))

            let page = try await h.client.send("GET", "/metrics")
            #expect(page.status == 200)
            #expect(page.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = page.text
            Self.checkExposition(text)
            #expect(text.contains(#"sentry_containments{kind="block_ip",state="active"} 1"#))
            #expect(text.contains(#"sentry_containments{kind="block_ip",state="awaiting_approval"} 0"#))
            #expect(text.contains(#"sentry_alerts{status="open"} 1"#))
            #expect(text.contains("sentry_outbox_pending "))
            #expect(text.contains("sentry_outbox_failed 0"))
            // Process figures an operator expects next to the service's own.
            let rss = text.split(separator: "\n").first { $0.hasPrefix("process_resident_memory_bytes ") }
            #expect((rss.flatMap { Double($0.split(separator: " ")[1]) } ?? 0) > 1_000_000)
            #expect(text.contains("process_open_fds "))
            #expect(text.contains("process_start_time_seconds "))
            let m = h.metrics
            typealias N = ServerMetrics.Name
            #expect(m.value(N.requests, [#"endpoint="slack_commands""#, #"status="200""#]) == 1)
            #expect(m.value(N.requests, [#"endpoint="slack_commands""#, #"status="401""#]) == 1)
            #expect(m.value(N.verificationFailures, [#"reason="missing_timestamp""#]) == 1)
            // The 503 and the retry that landed, each counted by API and status.
            #expect(m.value(N.upstreamRequests, [#"api="meraki""#, #"status="503""#]) == 1)
            #expect(m.value(N.upstreamRequests, [#"api="meraki""#, #"status="200""#]) >= 2)
            // The alert, and the thread replies that tell the channel about the block.
            // Counted once the call or its record is finished, a moment after what the test waited for.
            #expect(await eventually { m.value(N.upstreamRequests, [#"api="slack.chat.postMessage""#, #"status="200""#]) >= 2 })
            #expect(m.value(N.upstreamRequests, [#"api="slack.views.open""#, #"status="200""#]) == 1)
            #expect(text.contains(#"sentry_upstream_request_duration_seconds_count{api="meraki"} "#))
            // The 503 was retried inside the Meraki client; the effect itself succeeded once.
            #expect(await eventually { m.value(N.effects, [#"effect="execute_containment""#, #"result="ok""#]) == 1 })
            #expect(await eventually { m.value(N.effects, [#"effect="post_alert""#, #"result="ok""#]) == 1 })
        }
    }

    @Test func rateLimitWaitsAreCountedPerLimiter() async throws {
        let metrics = ServerMetrics()
        // Slow refills, so the second call waits even if this machine is slow to make it.
        let bucket = TokenBucket(capacity: 1, refillPerSecond: 2, onWait: metrics.waitRecorder(limiter: "meraki"))
        try await bucket.acquire()
        try await bucket.acquire()
        #expect(metrics.value(ServerMetrics.Name.rateLimitWaits, [#"limiter="meraki""#]) >= 1)

        let pacer = SlackPacer(postsPerSecond: 2, postBurst: 1, onWait: { metrics.rateLimitWait(limiter: $0, duration: $1) })
        await pacer.beforePost(channel: "C1")
        await pacer.beforePost(channel: "C2")
        #expect(metrics.value(ServerMetrics.Name.rateLimitWaits, [#"limiter="slack_post""#]) == 0)
        await pacer.beforePost(channel: "C1")
        #expect(metrics.value(ServerMetrics.Name.rateLimitWaits, [#"limiter="slack_post""#]) == 1)
        // A wait that is already over is not counted (and never makes a counter go down).
        metrics.rateLimitWait(limiter: "slack_post", duration: .milliseconds(-3))
        metrics.rateLimitWait(limiter: "slack_post", duration: .zero)
        #expect(metrics.value(ServerMetrics.Name.rateLimitWaits, [#"limiter="slack_post""#]) == 1)

        let text = await metrics.render(store: StoreGauges())
        let seconds = text.split(separator: "\n").first { $0.hasPrefix(#"sentry_rate_limit_wait_seconds_total{limiter="meraki"} "#) }
        let waited = try #require(seconds.flatMap { Double($0.split(separator: " ").last ?? "") })
        #expect(waited > 0 && waited <= 0.5)
        Self.checkExposition(text)
    }

    @Test func theEmbeddedDatabaseSaysWhatItHolds() async throws {
        let sqlite = try SQLiteAlertStore.inMemory()
        _ = try await sqlite.alerts(statuses: [.open], limit: 10)
        let held = try #require(try await sqlite.gauges().storageMemoryBytes)
        #expect(held > 0)
        let text = await ServerMetrics().render(store: try await sqlite.gauges())
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("sentry_storage_memory_bytes ") })
        #expect((Double(line.split(separator: " ").last ?? "") ?? 0) > 0)
        Self.checkExposition(text)
        // A store that is not an embedded database has nothing to say.
        #expect(try await InMemoryAlertStore().gauges().storageMemoryBytes == nil)
        #expect(!(await ServerMetrics().render(store: StoreGauges())).contains("sentry_storage_memory_bytes "))
    }

    @Test func collectorCountersStayMonotonicAndLagIsSinceLastSuccess() async throws {
        let metrics = ServerMetrics()
        let sample = Locked(ServerMetrics.CollectorSample(succeededPolls: 2, failedPolls: 1, events: 10, lastSuccessAt: nil))
        metrics.addCollector("slack_audit") { sample.current }
        let now = Date()
        var text = await metrics.render(store: StoreGauges(), now: now)
        #expect(text.contains(#"sentry_collector_polls_total{collector="slack_audit",result="ok"} 2"#))
        #expect(text.contains(#"sentry_collector_polls_total{collector="slack_audit",result="error"} 1"#))
        #expect(text.contains(#"sentry_collector_events_total{collector="slack_audit"} 10"#))
        #expect(!text.contains("sentry_collector_lag_seconds{"), "no lag before a first successful poll")
        sample.withLock { $0 = .init(succeededPolls: 4, failedPolls: 1, events: 12, lastSuccessAt: now.addingTimeInterval(-42)) }
        text = await metrics.render(store: StoreGauges(), now: now)
        #expect(text.contains(#"sentry_collector_polls_total{collector="slack_audit",result="ok"} 4"#))
        #expect(text.contains(#"sentry_collector_events_total{collector="slack_audit"} 12"#))
        #expect(text.contains(#"sentry_collector_lag_seconds{collector="slack_audit"} 42"#))
        // Read twice with nothing new: the counters do not move.
        text = await metrics.render(store: StoreGauges(), now: now)
        #expect(text.contains(#"sentry_collector_events_total{collector="slack_audit"} 12"#))
        Self.checkExposition(text)
    }

    @Test func upstreamCallsAreLabelledByAPIAndOutcome() async throws {
        let configuration = try ServerConfiguration.load(environment: [
            "SLACK_SIGNING_SECRET": ServerHarness.signingSecret, "SLACK_BOT_TOKEN": ServerHarness.botToken,
            "SLACK_ALERT_CHANNEL": ServerHarness.channel,
            "SLACK_API_URL": "http://127.0.0.1:1/api/", "MERAKI_API_URL": "http://127.0.0.1:2/api/v1",
        ]).get()
        let metrics = ServerMetrics()
        let transport = MeteredTransport(base: FailingTransport(), metrics: metrics, configuration: configuration)
        for url in [
            "http://127.0.0.1:1/api/chat.postMessage", "http://127.0.0.1:1/api/users.info?user=U1",
            "http://127.0.0.1:1/api/chat%2EpostMessage", "http://127.0.0.1:2/api/v1/networks/N_1/devices",
            "https://hooks.slack.com/actions/T1/2/3", "http://127.0.0.1:1/apix",
        ] {
            _ = try? await transport.send(.init(url: url))
        }
        let n = ServerMetrics.Name.upstreamRequests
        #expect(metrics.value(n, [#"api="slack.chat.postMessage""#, #"status="timeout""#]) == 1)
        #expect(metrics.value(n, [#"api="slack.users.info""#, #"status="timeout""#]) == 1)
        #expect(metrics.value(n, [#"api="slack""#, #"status="timeout""#]) == 1)
        #expect(metrics.value(n, [#"api="meraki""#, #"status="timeout""#]) == 1)
        #expect(metrics.value(n, [#"api="other""#, #"status="timeout""#]) == 2)
    }

    struct FailingTransport: HTTPTransport {
        func send(_ request: SentryConnectors.HTTPRequest) async throws -> SentryConnectors.HTTPResponse { throw TransportError.timedOut }
    }
}
