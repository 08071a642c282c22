import Foundation
import SentryConnectors
import SentryCore
import SentryDetect
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

@Suite struct UplinkCollectorTests {
    typealias F = UplinkFixtures

    static let change = [F.mx(at: F.at(60), wan1: "failed", wan1IP: "203.0.113.77", cellular: "active")]

    func collector(
        _ source: any UplinkStatusSource, _ store: any DetectorStore, _ sink: any EventSink, clock: ManualClock = ManualClock(F.at(0))
    ) -> MerakiUplinkCollector {
        MerakiUplinkCollector(
            source: source, store: store, sink: sink, interval: .seconds(60), tracker: UplinkTracker(staleAfter: 180), clock: clock,
            logger: quietLogger)
    }

    @Test func changesAreDeliveredOnceAcrossPolls() async throws {
        let store = try SQLiteAlertStore.inMemory()
        let source = FakeUplinkSource([F.mx(at: F.at(0))])
        let sink = RecordingUplinkSink()
        let collector = collector(source, store, sink)

        #expect(await collector.pollOnce(now: F.at(10)) == .succeeded(delivered: 0, suppressed: 0))
        #expect(try await store.uplinkSnapshots().count == 2)
        source.set(Self.change)
        #expect(await collector.pollOnce(now: F.at(70)) == .succeeded(delivered: 2, suppressed: 0))
        #expect(await collector.pollOnce(now: F.at(100)) == .succeeded(delivered: 0, suppressed: 0))

        #expect(sink.deliveries.count == 1)
        #expect(sink.events.map(\.action) == ["uplink_public_ip_changed", "uplink_failover"])
        #expect(sink.events.allSatisfy { $0.source == .merakiUplinks })
        // The ids went to the seen-ids table under the events' source.
        #expect(try await store.firstSeen(source: "meraki-uplinks", ids: sink.events.map(\.id), now: F.at(200)).isEmpty)
        let statistics = collector.statistics
        #expect(statistics.polls == 3 && statistics.succeededPolls == 3 && statistics.failedPolls == 0 && statistics.eventsDelivered == 2)
        #expect(statistics.lastSuccessAt == F.at(100))
        #expect(try await store.uplinkSnapshots()["\(F.mx)/wan1"]?.publicIP == "203.0.113.77")
    }

    @Test func aRestartedCollectorDoesNotDeliverAgain() async throws {
        let store = try SQLiteAlertStore.inMemory()
        let source = FakeUplinkSource([F.mx(at: F.at(0))])
        let first = RecordingUplinkSink()
        await collector(source, store, first).pollOnce(now: F.at(10))
        source.set(Self.change)
        #expect(await collector(source, store, first).pollOnce(now: F.at(70)) == .succeeded(delivered: 2, suppressed: 0))

        let second = RecordingUplinkSink()
        #expect(await collector(source, store, second).pollOnce(now: F.at(80)) == .succeeded(delivered: 0, suppressed: 0))
        #expect(second.deliveries.isEmpty)
        #expect(first.events.count == 2)
    }

    @Test func aCrashBetweenDeliveryAndSaveIsNotDeliveredTwice() async throws {
        let store = try SQLiteAlertStore.inMemory()
        let source = FakeUplinkSource([F.mx(at: F.at(0))])
        let first = RecordingUplinkSink()
        await collector(source, store, first).pollOnce(now: F.at(10))
        let baseline = try await store.uplinkSnapshots()

        source.set(Self.change)
        let crashing = collector(source, UplinkSaveFailingStore(store, failSaves: 1), first)
        let result = await crashing.pollOnce(now: F.at(70))
        guard case .failed(.store, _) = result else {
            Issue.record("expected a store failure, got \(result)")
            return
        }
        #expect(first.events.count == 2)
        #expect(try await store.uplinkSnapshots() == baseline)

        // After the restart the same changes are derived again and held back by the seen-ids table.
        let second = RecordingUplinkSink()
        let restarted = collector(source, store, second)
        #expect(await restarted.pollOnce(now: F.at(80)) == .succeeded(delivered: 0, suppressed: 2))
        #expect(second.deliveries.isEmpty)
        #expect(restarted.statistics.duplicatesSuppressed == 2)
        #expect(try await store.uplinkSnapshots() != baseline)
    }

    @Test(arguments: [
        MerakiError.rateLimited(retryAfter: .seconds(120)), .http(status: 503, errors: ["Service unavailable"]), .transport(.timedOut),
    ])
    func aSourceErrorFailsThatPollOnly(_ error: MerakiError) async throws {
        let store = try SQLiteAlertStore.inMemory()
        let source = FakeUplinkSource([F.mx(at: F.at(0))])
        let sink = RecordingUplinkSink()
        let collector = collector(source, store, sink)
        await collector.pollOnce(now: F.at(10))
        let baseline = try await store.uplinkSnapshots()

        source.fail(with: error)
        #expect(await collector.pollOnce(now: F.at(70)) == .failed(.source, message: error.description))
        #expect(try await store.uplinkSnapshots() == baseline)
        let statistics = collector.statistics
        #expect(statistics.failedPolls == 1 && statistics.lastFailureAt == F.at(70))
        #expect(statistics.lastError == "source: \(error.description)")
        #expect(statistics.lastSuccessAt == F.at(10))

        // Nothing was lost: the next good poll still sees the change.
        source.set(Self.change)
        #expect(await collector.pollOnce(now: F.at(100)) == .succeeded(delivered: 2, suppressed: 0))
    }

    @Test func eventsTheSinkRefusesAreOfferedAgainNextPoll() async throws {
        let store = try SQLiteAlertStore.inMemory()
        let source = FakeUplinkSource([F.mx(at: F.at(0))])
        let sink = RecordingUplinkSink()
        let collector = collector(source, store, sink)
        await collector.pollOnce(now: F.at(10))
        let baseline = try await store.uplinkSnapshots()

        source.set(Self.change)
        sink.refusing = true
        let result = await collector.pollOnce(now: F.at(70))
        guard case .failed(.sink, _) = result else {
            Issue.record("expected a sink failure, got \(result)")
            return
        }
        #expect(collector.pendingEvents.count == 2)
        #expect(try await store.uplinkSnapshots() == baseline)

        sink.refusing = false
        #expect(await collector.pollOnce(now: F.at(100)) == .succeeded(delivered: 2, suppressed: 2))
        #expect(await collector.pollOnce(now: F.at(130)) == .succeeded(delivered: 0, suppressed: 0))
        #expect(sink.events.map(\.action) == ["uplink_public_ip_changed", "uplink_failover"])
        #expect(collector.pendingEvents.isEmpty)
    }

    @Test func runPollsEveryIntervalAndWaitsOutARateLimit() async throws {
        let store = try SQLiteAlertStore.inMemory()
        let source = FakeUplinkSource()
        source.fail(with: MerakiError.rateLimited(retryAfter: .seconds(120)))
        let clock = ManualClock(F.at(0))
        let collector = collector(source, store, RecordingUplinkSink(), clock: clock)
        let running = Task { try await collector.run() }
        // Meraki recovers during the first wait; the third wait ends the run, as shutdown would.
        #expect(await clock.waitForSleepers())
        source.set([F.mx(at: F.at(0))])
        clock.advance(by: 120)
        #expect(await clock.waitForSleepers())
        clock.advance(by: 60)
        #expect(await clock.waitForSleepers())
        running.cancel()
        try await running.value
        #expect(clock.requestedWaits == [.seconds(120), .seconds(60), .seconds(60)])
        #expect(source.calls == 3)
        #expect(collector.statistics.polls == 3 && collector.statistics.failedPolls == 1 && collector.statistics.succeededPolls == 2)
    }

    // MARK: Through the real Meraki client

    static let sample = "specs/meraki/samples/getOrganizationApplianceUplinkStatuses.response.json"
    static let sampleReportedAt = Date(timeIntervalSince1970: 1_518_307_200)  // 2018-02-11T00:00:00Z

    func client(_ transport: FakeUplinkTransport) -> MerakiClient {
        MerakiClient(
            transport: transport, apiKey: "0123456789abcdef0123456789abcdef01234567", organizationID: "2930418", limiter: RecordingBudget(),
            retry: .never, sleep: { _ in }, logger: quietLogger)
    }

    @Test func theSpecSampleBecomesReportsThroughTheClient() async throws {
        let transport = FakeUplinkTransport([HTTPResponse(status: 200, body: try CoreFixtures.sharedBytes(Self.sample))])
        let reports = try await client(transport).uplinkReports()
        #expect(
            reports == [
                UplinkReport(
                    serial: "Q234-ABCD-5678", networkID: "N_24329156", lastReportedAt: Self.sampleReportedAt,
                    uplinks: [
                        .init(interface: "wan1", status: "active", ip: "1.2.3.4", publicIP: "123.123.123.1"),
                        .init(interface: "cellular", status: "ready", ip: "1.2.3.4", publicIP: "123.123.123.1"),
                    ])
            ])
        #expect(transport.requests.map(\.url) == ["https://api.meraki.com/api/v1/organizations/2930418/appliance/uplink/statuses?perPage=1000"])
    }

    @Test func theOrganizationWideSampleHasTheSameShape() throws {
        let bytes = try CoreFixtures.sharedBytes("specs/meraki/samples/getOrganizationUplinksStatuses.response.json")
        let statuses = try JSONDecoder().decode([MerakiUplinkStatus].self, from: Data(bytes))
        #expect(
            statuses.map(UplinkReport.init).map(\.uplinks) == [[.init(interface: "wan1", status: "active", ip: "1.2.3.4", publicIP: "123.123.123.1")]]
        )
    }

    @Test func aMerakiOutageThroughTheClientLeavesSnapshotsUnchanged() async throws {
        let sample = try CoreFixtures.sharedBytes(Self.sample)
        let unavailable = HTTPResponse(
            status: 503, headers: ["content-type": "application/json"], body: Array(#"{"errors":["Service unavailable"]}"#.utf8))
        let transport = FakeUplinkTransport([HTTPResponse(status: 200, body: sample), unavailable])
        let store = try SQLiteAlertStore.inMemory()
        let collector = collector(client(transport), store, RecordingUplinkSink())

        #expect(await collector.pollOnce(now: Self.sampleReportedAt.addingTimeInterval(30)) == .succeeded(delivered: 0, suppressed: 0))
        let baseline = try await store.uplinkSnapshots()
        #expect(baseline.keys.sorted() == ["Q234-ABCD-5678/cellular", "Q234-ABCD-5678/wan1"])
        #expect(
            await collector.pollOnce(now: Self.sampleReportedAt.addingTimeInterval(90))
                == .failed(.source, message: "Meraki answered HTTP 503: Service unavailable"))
        #expect(try await store.uplinkSnapshots() == baseline)
    }

    @Test func theSimulatorsUplinksBecomeABaselineAndItsRateLimitFailsOnePoll() async throws {
        try await MerakiHarness.run { stage in
            let store = try SQLiteAlertStore.inMemory()
            let sink = RecordingUplinkSink()
            let collector = collector(stage.client(retry: .never), store, sink)
            // The simulator's reports are dated 2018-02-11T00:00:00Z.
            #expect(await collector.pollOnce(now: Self.sampleReportedAt.addingTimeInterval(30)) == .succeeded(delivered: 0, suppressed: 0))
            let baseline = try await store.uplinkSnapshots()
            #expect(baseline.count == 4)
            #expect(baseline["Q234-ABCD-0005/wan2"]?.publicIP == "203.0.113.9")

            stage.simulator.inject([.rateLimited(retryAfter: 1)], for: "/organizations/\(MerakiHarness.organizationID)/appliance/uplink/statuses")
            let result = await collector.pollOnce(now: Self.sampleReportedAt.addingTimeInterval(90))
            #expect(result == .failed(.source, message: MerakiError.rateLimited(retryAfter: .seconds(1)).description))
            #expect(try await store.uplinkSnapshots() == baseline)
            #expect(sink.deliveries.isEmpty)
        }
    }
}
