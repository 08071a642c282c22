import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryTestSupport
import SentryTesting
import Testing

@Suite struct SlackAuditClientTests {
    typealias F = SlackAuditFixtures

    @Test func aPageIsAskedForWithTheQueryTokenAndJSON() async throws {
        try await withAuditLogs { world in
            world.simulator.add([F.download("d1", at: F.t0), F.download("d2", at: F.t0 + 5)])
            let page = try await world.client().logs(
                SlackAuditQuery(
                    oldest: F.t0 - 120, latest: F.t0 + 600, limit: 1_000, actions: ["file_downloaded", "anomaly"]))
            #expect(page.events.map(\.id) == ["d2", "d1"])
            #expect(page.nextCursor == nil)
            let request = try #require(world.simulator.requests.first)
            #expect(request.path == "/audit/v1/logs")
            #expect(request.authorization == "Bearer \(SlackAuditHarness.token)")
            #expect(
                request.query == [
                    "oldest": "\(F.t0 - 120)", "latest": "\(F.t0 + 600)", "limit": "1000", "action": "file_downloaded,anomaly",
                ])
        }
    }

    @Test func theLimitStaysWithinSlacksMaximum() {
        #expect(SlackAuditQuery(limit: 50_000).limit == 9_999)
        #expect(SlackAuditQuery(limit: 0).limit == 1)
    }

    @Test func allLogsFollowsCursorsOverThreePages() async throws {
        try await withAuditLogs { world in
            world.simulator.add((1...7).map { F.download("d\($0)", at: F.t0 + Int64($0)) })
            let budget = RecordingBudget()
            let (page, pages) = try await world.client(budget: budget).allLogs(SlackAuditQuery(oldest: F.t0, limit: 3))
            #expect(pages == 3)
            #expect(page.events.map(\.id) == ["d7", "d6", "d5", "d4", "d3", "d2", "d1"])
            #expect(page.nextCursor == nil)
            let cursors = world.simulator.requests.map { $0.query["cursor"] }
            #expect(cursors.count == 3)
            #expect(cursors[0] == nil)
            // Slack's cursors are base64; the padding must come through the query string intact.
            #expect(cursors[1] != nil && cursors[2] != nil && cursors[1] != cursors[2])
            #expect(world.simulator.requests.allSatisfy { $0.query["oldest"] == "\(F.t0)" && $0.query["limit"] == "3" })
            // Every page drew from the organisation's budget.
            #expect(budget.acquisitions == 3)
        }
    }

    @Test func rateLimitDrainsTheBudgetWaitsRetryAfterThenSucceeds() async throws {
        try await withAuditLogs { world in
            world.simulator.add([F.download("d1", at: F.t0)])
            world.simulator.inject([.rateLimited(retryAfter: 7)])
            let sleep = RecordingSleep()
            let budget = RecordingBudget()
            let page = try await world.client(sleep: sleep, budget: budget).logs(SlackAuditQuery(oldest: F.t0))
            #expect(page.events.map(\.id) == ["d1"])
            #expect(world.simulator.requests.count == 2)
            #expect(sleep.durations == [.seconds(7)])
            #expect(budget.drains == [.seconds(7)])
            // The rate-limited call was not served, so its repeat needs no second token.
            #expect(budget.acquisitions == 1)
        }
    }

    @Test func aRetryAfterBeyondThePolicyGoesToTheCaller() async throws {
        try await withAuditLogs { world in
            world.simulator.inject([.rateLimited(retryAfter: 600)])
            let sleep = RecordingSleep()
            let error = await #expect(throws: SlackAuditError.self) {
                _ = try await world.client(sleep: sleep).logs(SlackAuditQuery())
            }
            #expect(error == .rateLimited(retryAfter: .seconds(600)))
            #expect(error?.isRetryable == true)
            #expect(sleep.durations.isEmpty)
        }
    }

    @Test func serverErrorsAreRetriedWithJitteredBackoff() async throws {
        try await withAuditLogs { world in
            world.simulator.add([F.download("d1", at: F.t0)])
            world.simulator.inject([.status(500), .status(503)])
            let sleep = RecordingSleep()
            let retry = RetryPolicy(maxAttempts: 5, baseDelay: .seconds(1), maxDelay: .seconds(30), jitter: 0.5)
            let page = try await world.client(sleep: sleep, retry: retry).logs(SlackAuditQuery())
            #expect(page.events.count == 1)
            #expect(world.simulator.requests.count == 3)
            let waits = sleep.durations
            #expect(waits.count == 2)
            #expect(waits[0] >= .milliseconds(500) && waits[0] <= .milliseconds(1_500))
            #expect(waits[1] >= .seconds(1) && waits[1] <= .seconds(3))
        }
    }

    @Test func serverErrorsBeyondTheAttemptsGoToTheCaller() async throws {
        try await withAuditLogs { world in
            world.simulator.inject([.status(502), .status(502)])
            let error = await #expect(throws: SlackAuditError.self) {
                _ = try await world.client(retry: RetryPolicy(maxAttempts: 2)).logs(SlackAuditQuery())
            }
            #expect(error == .http(status: 502))
            #expect(world.simulator.requests.count == 2)
        }
    }

    @Test func okFalseIsATypedErrorAndNotRetried() async throws {
        try await withAuditLogs { world in
            world.simulator.inject([.error("missing_scope")])
            let sleep = RecordingSleep()
            let error = await #expect(throws: SlackAuditError.self) {
                _ = try await world.client(sleep: sleep).logs(SlackAuditQuery())
            }
            #expect(error == .api(code: "missing_scope", status: 200))
            #expect(error?.isRetryable == false)
            #expect(world.simulator.requests.count == 1)
            #expect(sleep.durations.isEmpty)
        }
    }

    @Test func aWrongTokenIsAnAuthErrorAndTheTokenIsNeverLogged() async throws {
        try await withAuditLogs { world in
            let lines = RecordingLogLines()
            let wrong = "xoxp-9999-WRONGTOKEN-fedcba"
            let error = await #expect(throws: SlackAuditError.self) {
                _ = try await world.client(token: wrong, logger: lines.logger).logs(SlackAuditQuery())
            }
            #expect(error == .api(code: "invalid_auth", status: 401))
            #expect(!lines.lines.isEmpty)
            #expect(!lines.lines.contains { $0.contains("WRONGTOKEN") || $0.contains("xoxp-") })
        }
    }

    @Test func aStatusWithoutASlackBodyIsAnHTTPError() async throws {
        try await withAuditLogs { world in
            // A body with an empty error beside ok:true (as the shape sample has) is still a success.
            let okBody = try #require(SlackAuditEntry.decodePage(Array(#"{"ok":true,"error":"","entries":[]}"#.utf8)))
            #expect(okBody.events.isEmpty)
            let transport = world.transport
            let client = SlackAuditClient(
                transport: transport, baseURL: "http://127.0.0.1:\(world.app.port)/nowhere", token: SlackAuditHarness.token,
                budget: RecordingBudget(), logger: quietLogger)
            let error = await #expect(throws: SlackAuditError.self) { _ = try await client.logs(SlackAuditQuery()) }
            #expect(error == .http(status: 404))
        }
    }

    @Test func aRepeatedCursorStopsTheWalk() async throws {
        struct LoopingReader: AuditLogReading {
            func logs(_ query: SlackAuditQuery) async throws -> SlackAuditPage {
                SlackAuditPage(events: [], malformed: 0, nextCursor: "same")
            }
        }
        await #expect(throws: SlackAuditError.repeatedCursor) { _ = try await LoopingReader().allLogs(SlackAuditQuery()) }
    }

    @Test func theOrganizationBudgetRefillsFiftyAMinute() async {
        let bucket = SlackAuditClient.organizationBudget()
        let refill = await bucket.refillPerSecond
        let capacity = await bucket.capacity
        #expect(abs(refill * 60 - 50) < 0.001)
        #expect(capacity <= 5)
    }
}

@Suite struct SlackAuditSimulatorTests {
    typealias F = SlackAuditFixtures

    @Test func filtersByTimeAndActionNewestFirst() async throws {
        try await withAuditLogs { world in
            world.simulator.add([
                F.download("old", at: F.t0 - 500),
                AuditLogsSimulator.entry(id: "fail", action: "user_login_failed", at: F.t0 + 1),
                F.download("in", at: F.t0 + 2),
                AuditLogsSimulator.entry(id: "login", action: "user_login", at: F.t0 + 3),
                F.download("late", at: F.t0 + 1_000),
            ])
            let page = try await world.client().logs(
                SlackAuditQuery(
                    oldest: F.t0, latest: F.t0 + 100, actions: ["file_downloaded", "user_login_failed"]))
            #expect(page.events.map(\.id) == ["in", "fail"])
        }
    }

    @Test func anEntryAddedBetweenPagesNeitherShiftsNorRepeatsAPage() async throws {
        try await withAuditLogs { world in
            world.simulator.add((1...4).map { F.download("d\($0)", at: F.t0 + Int64($0)) })
            let client = world.client()
            let first = try await client.logs(SlackAuditQuery(oldest: F.t0, limit: 2))
            #expect(first.events.map(\.id) == ["d4", "d3"])
            world.simulator.add([F.download("new", at: F.t0 + 10)])
            let second = try await client.logs(SlackAuditQuery(oldest: F.t0, limit: 2, cursor: first.nextCursor))
            #expect(second.events.map(\.id) == ["d2", "d1"])
            #expect(second.nextCursor == nil)
        }
    }

    @Test func aMissingTokenAndABadCursorAreRefused() async throws {
        try await withAuditLogs { world in
            let transport = world.transport
            let noToken = try await transport.send(SentryConnectors.HTTPRequest(url: world.baseURL + "/logs"))
            #expect(noToken.status == 401)
            #expect(JSONValue.parse(noToken.body)?["error"] == "not_authed")
            let error = await #expect(throws: SlackAuditError.self) {
                _ = try await world.client().logs(SlackAuditQuery(latest: nil, limit: 10, cursor: "bm90LWEtY3Vyc29y"))
            }
            #expect(error == .api(code: "invalid_cursor", status: 200))
        }
    }
}
