import Foundation
import SentryConnectors
import SentryCore
import SentryDetect
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

@Suite struct SlackAuditCollectorTests {
    typealias F = SlackAuditFixtures
    static let key = SlackAuditCollector.checkpointKey

    private func checkpoint(_ store: SQLiteAlertStore) async throws -> String? {
        try await store.checkpoint(Self.key)
    }

    @Test func theFirstPollDeliversEverythingOnceOldestFirst() async throws {
        try await withAuditLogs { world in
            // Added out of order, as Slack may publish them; one action the detections do not read.
            world.simulator.add([
                F.download("d3", at: F.t0 + 30),
                AuditLogsSimulator.entry(id: "f1", action: "user_login_failed", at: F.t0 + 10, ip: "198.51.100.9"),
                AuditLogsSimulator.entry(id: "login", action: "user_login", at: F.t0 + 15),
                F.download("d1", at: F.t0 - 100),
                AuditLogsSimulator.entry(id: "an1", action: "anomaly", at: F.t0 + 20, details: ["reason": ["unexpected_credential_testing"]]),
            ])
            let store = try SQLiteAlertStore.inMemory()
            let sink = RecordingSlackAuditSink()
            let collector = F.collector(world, store: store, sink: sink)
            let result = try await collector.pollOnce()

            #expect(sink.deliveries.count == 1)
            #expect(sink.ids == ["d1", "f1", "an1", "d3"])
            #expect(sink.events.first { $0.id == "an1" }?.reason == "unexpected_credential_testing")
            #expect(sink.events.first { $0.id == "f1" }?.ip == "198.51.100.9")
            #expect(result == .init(pages: 1, fetched: 4, delivered: 4, duplicates: 0, malformed: 0, checkpoint: F.t0 + 30))
            #expect(try await checkpoint(store) == "\(F.t0 + 30)")

            // No checkpoint yet: the first poll looks back the initial hour from now (t0 + 60).
            let request = try #require(world.simulator.requests.first)
            #expect(request.query["oldest"] == "\(F.t0 + 60 - 3_600)")
            #expect(request.query["action"] == SlackAuditCollector.detectionActions.joined(separator: ","))
            #expect(request.query["limit"] == "1000")
        }
    }

    @Test func aSecondPollWithTheOverlapDeliversNothingNew() async throws {
        try await withAuditLogs { world in
            world.simulator.add([F.download("d1", at: F.t0), F.download("d2", at: F.t0 + 30)])
            let store = try SQLiteAlertStore.inMemory()
            let sink = RecordingSlackAuditSink()
            let collector = F.collector(world, store: store, sink: sink)
            try await collector.pollOnce()
            let second = try await collector.pollOnce()

            #expect(sink.ids == ["d1", "d2"])
            #expect(second.delivered == 0)
            #expect(second.duplicates == 2)
            #expect(second.checkpoint == F.t0 + 30)
            // Asked again from the checkpoint less the 120 s overlap.
            #expect(world.simulator.requests.last?.query["oldest"] == "\(F.t0 + 30 - 120)")
            let stats = await collector.stats
            #expect(stats.polls == 2 && stats.succeededPolls == 2 && stats.delivered == 2 && stats.duplicates == 2 && stats.failedPolls == 0)
        }
    }

    @Test func aLateEntryOlderThanTheCheckpointButWithinTheOverlapIsDeliveredOnce() async throws {
        try await withAuditLogs { world in
            world.simulator.add([F.download("d1", at: F.t0 + 100)])
            let store = try SQLiteAlertStore.inMemory()
            let sink = RecordingSlackAuditSink()
            let collector = F.collector(world, store: store, sink: sink)
            try await collector.pollOnce()

            // Published after d1 although it happened 60 s earlier.
            world.simulator.add([F.download("late", at: F.t0 + 40)])
            let second = try await collector.pollOnce()
            #expect(second.delivered == 1)
            try await collector.pollOnce()

            #expect(sink.ids == ["d1", "late"])
            // The checkpoint never moves back.
            #expect(try await checkpoint(store) == "\(F.t0 + 100)")
        }
    }

    @Test func aRestartOnTheSameDatabaseNeitherLosesNorRedelivers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slack-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sentry.db").path

        try await withAuditLogs { world in
            world.simulator.add([F.download("d1", at: F.t0), F.download("d2", at: F.t0 + 10)])
            let sink = RecordingSlackAuditSink()
            do {
                let collector = F.collector(world, store: try SQLiteAlertStore(path: path), sink: sink)
                try await collector.pollOnce()
            }
            #expect(sink.ids == ["d1", "d2"])

            // Entries that arrive while the collector is down, one of them late but within the overlap.
            world.simulator.add([F.download("d3", at: F.t0 + 50), F.download("late", at: F.t0 + 5)])
            let reopened = try SQLiteAlertStore(path: path)
            let restarted = F.collector(world, store: reopened, sink: sink)
            let result = try await restarted.pollOnce()
            #expect(result.delivered == 2)
            #expect(result.duplicates == 2)
            #expect(world.simulator.requests.last?.query["oldest"] == "\(F.t0 + 10 - 120)")
            try await restarted.pollOnce()
            #expect(sink.ids == ["d1", "d2", "late", "d3"])
            #expect(try await reopened.checkpoint(Self.key) == "\(F.t0 + 50)")
        }
    }

    @Test func aServerErrorMidPaginationKeepsTheCheckpointAndTheNextPollRecovers() async throws {
        try await withAuditLogs { world in
            world.simulator.add([F.download("d1", at: F.t0), F.download("d2", at: F.t0 + 1)])
            let store = try SQLiteAlertStore.inMemory()
            let sink = RecordingSlackAuditSink()
            let collector = F.collector(world, store: store, sink: sink, pageSize: 2, retry: .never)
            try await collector.pollOnce()
            #expect(try await checkpoint(store) == "\(F.t0 + 1)")

            world.simulator.add((3...7).map { F.download("d\($0)", at: F.t0 + Int64($0)) })
            // Seven entries in pages of two: the second page fails.
            world.simulator.inject([.pass, .status(500)])
            await #expect(throws: SlackAuditError.http(status: 500)) { try await collector.pollOnce() }
            #expect(sink.ids == ["d1", "d2"])
            #expect(try await checkpoint(store) == "\(F.t0 + 1)")
            #expect(await collector.stats.failedPolls == 1)

            let recovered = try await collector.pollOnce()
            #expect(recovered.pages == 4)
            #expect(recovered.delivered == 5)
            #expect(sink.ids == ["d1", "d2", "d3", "d4", "d5", "d6", "d7"])
            #expect(try await checkpoint(store) == "\(F.t0 + 7)")
        }
    }

    @Test func aRateLimitFailsThePollWithoutMovingTheCheckpoint() async throws {
        try await withAuditLogs { world in
            world.simulator.add([F.download("d1", at: F.t0)])
            let store = try SQLiteAlertStore.inMemory()
            let sink = RecordingSlackAuditSink()
            let collector = F.collector(world, store: store, sink: sink, retry: .never)
            world.simulator.inject([.rateLimited(retryAfter: 30)])
            await #expect(throws: SlackAuditError.rateLimited(retryAfter: .seconds(30))) { try await collector.pollOnce() }
            #expect(sink.ids.isEmpty)
            #expect(try await checkpoint(store) == nil)

            try await collector.pollOnce()
            #expect(sink.ids == ["d1"])
        }
    }

    @Test func entriesOutOfOrderAcrossPagesAreDeliveredSorted() async throws {
        try await withAuditLogs { world in
            let times: [Int64] = [40, 5, 33, 5, 18, 1, 27]
            world.simulator.add(times.enumerated().map { index, offset in F.download("e\(index)", at: F.t0 + offset) })
            let store = try SQLiteAlertStore.inMemory()
            let sink = RecordingSlackAuditSink()
            let result = try await F.collector(world, store: store, sink: sink, pageSize: 3).pollOnce()
            #expect(result.pages == 3)
            let delivered = sink.events
            #expect(delivered.count == 7)
            #expect(delivered.map(\.at) == delivered.map(\.at).sorted())
            // Same second: ordered by id, so every run delivers the same sequence.
            #expect(sink.ids == ["e5", "e1", "e3", "e4", "e6", "e2", "e0"])
        }
    }

    @Test func aRefusedDeliveryIsRetriedAfterARestartWithoutMovingTheCheckpoint() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("slack-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sentry.db").path

        try await withAuditLogs { world in
            world.simulator.add([F.download("d1", at: F.t0), F.download("d2", at: F.t0 + 10)])
            let sink = RecordingSlackAuditSink()
            sink.refuse(true)
            do {
                let store = try SQLiteAlertStore(path: path)
                let collector = F.collector(world, store: store, sink: sink)
                await #expect(throws: RecordingSlackAuditSink.Refused.self) { try await collector.pollOnce() }
                #expect(try await store.checkpoint(Self.key) == nil)
            }
            sink.refuse(false)
            world.simulator.add([F.download("d3", at: F.t0 + 20)])
            let store = try SQLiteAlertStore(path: path)
            let restarted = F.collector(world, store: store, sink: sink)
            let result = try await restarted.pollOnce()
            #expect(result.delivered == 3)
            #expect(sink.ids == ["d1", "d2", "d3"])
            try await restarted.pollOnce()
            #expect(sink.ids == ["d1", "d2", "d3"])
            #expect(try await store.checkpoint(Self.key) == "\(F.t0 + 20)")
        }
    }

    @Test func malformedEntriesAreCountedAndLagIsMeasured() async throws {
        try await withAuditLogs { world in
            world.simulator.add([
                F.download("d1", at: F.t0 - 30),
                ["id": "broken", "action": "file_downloaded", "date_create": "not a time"],
                ["action": "anomaly", "date_create": .number(Double(F.t0 - 20))],
            ])
            let clock = ManualClock(Date(timeIntervalSince1970: TimeInterval(F.t0)))
            let sink = RecordingSlackAuditSink()
            let collector = F.collector(world, store: try SQLiteAlertStore.inMemory(), sink: sink, clock: clock)
            let result = try await collector.pollOnce()
            #expect(result.malformed == 2)
            #expect(sink.ids == ["d1"])
            let stats = await collector.stats
            #expect(stats.malformed == 2)
            #expect(stats.lag == 30)
            #expect(stats.newestEntryAt == Date(timeIntervalSince1970: TimeInterval(F.t0 - 30)))
            clock.advance(by: 60)
            #expect(await collector.lag(at: clock.now()) == 90)
        }
    }

    @Test func runPollsUntilCancelled() async throws {
        try await withAuditLogs { world in
            world.simulator.add([F.download("d1", at: F.t0)])
            let sink = RecordingSlackAuditSink()
            let clock = ManualClock(Date(timeIntervalSince1970: TimeInterval(F.t0 + 60)))
            let collector = SlackAuditCollector(
                source: world.client(), store: try SQLiteAlertStore.inMemory(), sink: sink,
                configuration: .init(interval: .milliseconds(10)), clock: clock, logger: quietLogger)
            let running = Task { try await collector.run() }
            // Each poll ends asleep for the interval; moving the clock by one interval starts the next.
            for _ in 0..<2 {
                #expect(await clock.waitForSleepers())
                clock.advance(by: 0.01)
            }
            #expect(await clock.waitForSleepers())
            #expect(clock.requestedWaits == Array(repeating: .milliseconds(10), count: 3))
            running.cancel()
            try await running.value
            #expect(world.simulator.requests.count >= 3)
            #expect(sink.ids == ["d1"])
        }
    }
}
