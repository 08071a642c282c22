import Foundation
import SentryEngine
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryCore
@testable import SentryPostgres

private typealias F = CoreFixtures

/// What only PostgreSQL has to prove, on a real server: migrations under the advisory lock, refusing a newer
/// schema, and several replicas (pools) on one database losing nothing. The shared contract is in
/// StoreContractTests and StoreContractEngineTests, which run on PostgreSQL too.
@Suite(.enabled(if: PostgresTestDatabase.included, "\(PostgresTestDatabase.skipVariable)=1 and no server"))
struct PostgresStoreTests {
    private func at(_ seconds: TimeInterval) -> Date { F.t0.addingTimeInterval(seconds) }

    // MARK: Migrations

    @Test func migratingAgainAppliesNothing() async throws {
        let settings = try await PostgresTestDatabase.create()
        #expect(try await PostgresAlertStore.migrate(settings, logger: PostgresTestDatabase.logger) == PostgresSchema.migrations.map(\.version))
        #expect(try await PostgresAlertStore.migrate(settings, logger: PostgresTestDatabase.logger) == [])
        // And the store opened on it works.
        let store = try await PostgresAlertStore.open(settings: settings, logger: PostgresTestDatabase.logger)
        _ = try await AlertEngine(store: store).ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        #expect(try await store.alert(id: "A1")?.status == .open)
    }

    @Test func replicasStartingTogetherMigrateOnce() async throws {
        let settings = try await PostgresTestDatabase.create()
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<5 { group.addTask { try await PostgresAlertStore.migrate(settings, logger: PostgresTestDatabase.logger) } }
            var all: [[Int]] = []
            for try await one in group { all.append(one) }
            return all
        }
        // One of them applied every migration; the others waited for the lock and found the schema current.
        #expect(applied.filter { !$0.isEmpty } == [PostgresSchema.migrations.map(\.version)])
        #expect(applied.count == 5)
    }

    @Test func aSchemaNewerThanTheBinaryIsRefusedClearly() async throws {
        let settings = try await PostgresTestDatabase.create()
        try await PostgresAlertStore.migrate(settings, logger: PostgresTestDatabase.logger)
        let newer = PostgresSchema.knownVersion + 1
        try await PostgresTestDatabase.execute("INSERT INTO sentry_schema_version (version, name) VALUES (\(newer), 'from the future')", on: settings)
        let refusal = PostgresSchema.Failure.newerThanBinary(database: newer, known: PostgresSchema.knownVersion)
        await #expect(throws: refusal) { try await PostgresAlertStore.migrate(settings, logger: PostgresTestDatabase.logger) }
        await #expect(throws: refusal) { _ = try await PostgresAlertStore.open(settings: settings, logger: PostgresTestDatabase.logger) }
        #expect(refusal.description.contains("version \(newer), newer than this sentry knows (up to \(PostgresSchema.knownVersion))"))
        // The refusal released the lock: the next start does not hang on it.
        await #expect(throws: refusal) { try await PostgresAlertStore.migrate(settings, logger: PostgresTestDatabase.logger) }
    }

    /// A pool would wait for a connection forever; start-up connects once and says why it could not.
    @Test(.timeLimit(.minutes(1))) func anUnreachableServerFailsWithAReasonInsteadOfWaiting() async throws {
        var settings = try PostgresTestDatabase.server()
        settings.port = try freePort()
        do {
            try await PostgresAlertStore.migrate(settings, logger: PostgresTestDatabase.logger)
            Issue.record("migrated against a closed port")
        } catch {
            #expect("\(error)".contains("PostgreSQL connection failed"))
        }
    }

    @Test func tlsIsWhatSSLModeAsksFor() async throws {
        let authority = try #require(
            ProcessInfo.processInfo.environment["SENTRY_TEST_POSTGRES_CA"], "scripts/pg-test-cluster.sh sets SENTRY_TEST_POSTGRES_CA")
        var base = try await PostgresTestDatabase.create()
        base.host = "localhost"
        /// Whether the store's own sessions are encrypted, or why it could not open.
        func encrypted(_ mode: PostgresSettings.SSLMode, trusting root: String? = nil) async -> Result<Bool, any Error> {
            var settings = base
            settings.sslMode = mode
            settings.rootCertificate = root
            do {
                let store = try await PostgresAlertStore.open(settings: settings, logger: PostgresTestDatabase.logger)
                let rows = try await store.client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").collect()
                return .success(try #require(rows.first).decode(Bool.self))
            } catch {
                return .failure(error)
            }
        }
        #expect(try await encrypted(.disable).get() == false)
        #expect(try await encrypted(.prefer).get() == true)
        #expect(try await encrypted(.require).get() == true)
        #expect(try await encrypted(.verifyFull, trusting: authority).get() == true)
        #expect(try await encrypted(.verifyCA, trusting: authority).get() == true)
        // The system's authorities never signed the test server's certificate.
        guard case .failure(let refused) = await encrypted(.verifyFull) else {
            Issue.record("an untrusted certificate was accepted")
            return
        }
        #expect("\(refused)".contains("PostgreSQL connection failed"))
    }

    // MARK: Several replicas on one database

    /// Two stores with pools of their own on one database, as two `sentry serve` replicas.
    private func replicas() async throws -> (PostgresAlertStore, PostgresAlertStore) {
        let settings = try await PostgresTestDatabase.create()
        let first = try await PostgresAlertStore.open(settings: settings, logger: PostgresTestDatabase.logger)
        let second = try await PostgresAlertStore.open(settings: settings, logger: PostgresTestDatabase.logger)
        return (first, second)
    }

    @Test func queuingWorkOnOneReplicaWakesTheOther() async throws {
        let (first, second) = try await replicas()
        let wakes = Locked(0)
        let listener = Task { await second.listenForWork { wakes.withLock { $0 += 1 } } }
        defer { listener.cancel() }
        // The listener wakes once when it connects (work queued while it was away is found by that look).
        #expect(await eventually(timeout: .seconds(10)) { wakes.current >= 1 })
        let connected = wakes.current
        // A transaction that queues nothing sends nothing; one that queues the alert's post wakes the other replica.
        try await first.transaction { tx in try await tx.recordEvents(source: "test", ids: ["e1"], now: F.t0) }
        _ = try await AlertEngine(store: first).ingest(
            F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        #expect(await eventually(timeout: .seconds(5)) { wakes.current == connected + 1 })
        // One that rolls back sends nothing either: the next wake comes from the next commit only.
        struct Boom: Error {}
        _ = try? await first.transaction { tx -> Bool in
            try await tx.enqueue(.unattached(.postNotice(channel: F.channel, text: "x"), idempotencyKey: "k-rolled-back"), now: F.t0)
            throw Boom()
        }
        _ = try await AlertEngine(store: first).enqueue(.postNotice(channel: F.channel, text: "y"), idempotencyKey: "k2", now: F.t0)
        #expect(await eventually(timeout: .seconds(5)) { wakes.current == connected + 2 })
        #expect(wakes.current == connected + 2)
    }

    @Test func detectionsSpreadOverTwoReplicasLoseNoUpdate() async throws {
        let (first, second) = try await replicas()
        let engines = [AlertEngine(store: first), AlertEngine(store: second)]
        // Thirty detections of one subject, half through each replica, all at once; each twice (a retried webhook).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<60 {
                group.addTask {
                    _ = try await engines[n % 2].ingest(
                        F.detection(id: "d\(n / 2)"), playbook: F.playbook(), channel: F.channel, newAlertID: "A\(n)", now: self.at(Double(n) / 100))
                }
            }
            try await group.waitForAll()
        }
        let alerts = try await second.alerts(statuses: [.open], limit: 100)
        #expect(alerts.count == 1)
        #expect(alerts.first?.occurrences == 30)
        let audit = try await first.auditEntries(after: 0, limit: 1_000)
        #expect(audit.count == 30)
        #expect(AuditChain.verify(audit) == .intact(entries: 30))
        #expect(try await first.outbox(alertID: alerts[0].id).filter { $0.effect == .postAlert }.count == 1)
        #expect(try await first.outbox(alertID: alerts[0].id).filter { $0.effect == .updateMessage && $0.state == "pending" }.count == 1)
    }

    @Test func twoReplicasBlockingOneTargetForTwoAlertsKeepOneLiveBlock() async throws {
        let (first, second) = try await replicas()
        let blocking = F.playbook(actions: [ContainmentAction(kind: .blockIP, approvals: 0, ttl: 3_600)])
        let engines = [AlertEngine(store: first), AlertEngine(store: second)]
        for n in 0..<6 {
            _ = try await engines[0].ingest(
                F.detection(id: "d\(n)", detection: "kind.\(n)"), playbook: blocking, channel: F.channel, newAlertID: "A\(n)", now: F.t0)
        }
        let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
            for n in 0..<6 {
                group.addTask {
                    let request = ContainmentRequest(
                        id: "C-\(n)", kind: .blockIP, target: "203.0.113.7", ttl: 3_600, reason: "brute force", requestedBy: F.alice,
                        mayContain: true, approvalsRequired: 0, dryRun: false)
                    return try await engines[n % 2].apply(.containmentRequested(request), to: "A\(n)", now: self.at(1)).outcome
                }
            }
            var all: [Outcome] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.filter { $0 == .applied }.count == 1)
        #expect(try await second.liveContainments(kind: .blockIP, target: "203.0.113.7").count == 1)
    }

    @Test func aTimerFiredByTwoReplicasAtOnceFiresOnce() async throws {
        let (first, second) = try await replicas()
        _ = try await AlertEngine(store: first).ingest(
            F.detection(id: "d1"), playbook: F.playbook(ackTimeout: 900), channel: F.channel, newAlertID: "A1", now: F.t0)
        let timer = try #require(try await first.dueTimers(now: at(900), limit: 10).first)
        let engines = [AlertEngine(store: first), AlertEngine(store: second)]
        let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
            for n in 0..<4 { group.addTask { try await engines[n % 2].fire(timer, now: self.at(900)).outcome } }
            var all: [Outcome] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.filter { $0 == .applied }.count == 1)
        #expect(try await second.alert(id: "A1")?.escalations == 1)
    }

    @Test func aDeadlockBetweenTwoTransactionsIsARetryableConflict() async throws {
        let (first, second) = try await replicas()
        let engine = AlertEngine(store: first)
        for id in ["A1", "A2"] {
            _ = try await engine.ingest(
                F.detection(id: id, detection: "kind.\(id)"), playbook: F.playbook(), channel: F.channel, newAlertID: id, now: F.t0)
        }
        // Both pools connected before the race, so neither is still connecting while the other locks.
        try await first.ping()
        try await second.ping()
        // Each locks one alert, waits until the other holds its own, then asks for the other's.
        let bothHoldOne = Arrivals()
        func crosswise(_ store: PostgresAlertStore, _ mine: String, _ theirs: String) async -> (any Error)? {
            do {
                try await store.transaction { tx in
                    _ = try await tx.alert(id: mine)
                    await bothHoldOne.arriveAndWait(for: 2)
                    _ = try await tx.alert(id: theirs)
                }
                return nil
            } catch {
                return error
            }
        }
        async let one = crosswise(first, "A1", "A2")
        async let two = crosswise(second, "A2", "A1")
        let errors = await [one, two].compactMap { $0 }
        // The server breaks the deadlock by failing one of them; the engine reads that as a conflict and decides again.
        #expect(errors.count == 1)
        #expect(errors.contains { if case StoreError.revisionConflict = $0 { true } else { false } })
    }
}

/// Tasks that wait for each other: each arrives, then waits until `count` have (at most ten seconds).
private actor Arrivals {
    private var arrived = 0

    func arriveAndWait(for count: Int) async {
        arrived += 1
        let deadline = ContinuousClock.now + .seconds(10)
        while arrived < count && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
    }
}
