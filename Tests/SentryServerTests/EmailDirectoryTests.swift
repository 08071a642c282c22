import Foundation
import Logging
import SentryCore
import SentryServer
import SentryTesting
import Testing

@Suite struct EmailDirectoryTests {
    /// Answers from a table, counting calls; `failing` throws instead.
    final class RecordingLookup: SlackEmailLookup, @unchecked Sendable {
        let lock = NSLock()
        var calls: [String] = []
        var failing = false
        let users: [String: String]
        init(_ users: [String: String]) { self.users = users }

        func userID(forEmail email: String) async throws -> String? {
            try lock.withLock {
                calls.append(email)
                if failing { throw URLError(.timedOut) }
                return users[email.lowercased()]
            }
        }
    }

    let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test func answersAreKeptForTheTTLAndFailuresAreNot() async {
        let lookup = RecordingLookup(["alice@example.com": "U0ALICE1"])
        let clock = ManualClock(Date(timeIntervalSince1970: 1_790_000_000))
        let directory = EmailDirectory(lookup: lookup, clock: clock, logger: quiet, ttl: 60)
        #expect(await directory.userID(forEmail: "Alice@Example.com") == "U0ALICE1")
        #expect(await directory.userID(forEmail: "alice@example.com") == "U0ALICE1")
        #expect(await directory.userID(forEmail: "nobody@example.com") == nil)
        #expect(await directory.userID(forEmail: "nobody@example.com") == nil)
        #expect(lookup.calls.count == 2)
        clock.advance(by: 61)
        lookup.failing = true
        #expect(await directory.userID(forEmail: "alice@example.com") == nil)
        lookup.failing = false
        #expect(await directory.userID(forEmail: "alice@example.com") == "U0ALICE1")
        #expect(lookup.calls.count == 4)
    }

    @Test func onlySubjectsWithAnEmailAndNoSlackUserAreLookedUp() async {
        let lookup = RecordingLookup(["alice@example.com": "U0ALICE1"])
        let directory = EmailDirectory(lookup: lookup, clock: ManualClock(Date()), logger: quiet)
        #expect(await directory.resolving(Subject(email: "alice@example.com")).slackUserID == "U0ALICE1")
        #expect(await directory.resolving(Subject(slackUserID: "U0BOB1", email: "alice@example.com")).slackUserID == "U0BOB1")
        #expect(await directory.resolving(Subject(account: "alice")).slackUserID == nil)
        #expect(lookup.calls == ["alice@example.com"])
    }
}
