import Foundation
import SentryCore
import Testing

/// Whether a failed effect runs again, when, or gives up: a pure function of the failure's class, the attempt and
/// the policy.
@Suite struct CoreRetryDecisionTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var failure: FailureClass
        var attempt: Int
        var random: Double
        var expected: RetryDecision
        var testDescription: String { "\(failure) after attempt \(attempt) (random \(random)) → \(expected)" }
    }

    static let effects: [Row] = [
        // Transient: 2ⁿ · [0.5, 1] s, from the lowest jitter to the highest; the 12th attempt is the last.
        Row(failure: .transient, attempt: 1, random: -1, expected: .retry(after: .seconds(1))),
        Row(failure: .transient, attempt: 1, random: 0, expected: .retry(after: .milliseconds(1_500))),
        Row(failure: .transient, attempt: 1, random: 1, expected: .retry(after: .seconds(2))),
        Row(failure: .transient, attempt: 3, random: -1, expected: .retry(after: .seconds(4))),
        Row(failure: .transient, attempt: 3, random: 1, expected: .retry(after: .seconds(8))),
        Row(failure: .transient, attempt: 8, random: 1, expected: .retry(after: .seconds(256))),
        // At the 300 s cap the jitter only goes down (200–300 s), so retries of a long outage do not all land on it.
        Row(failure: .transient, attempt: 10, random: 1, expected: .retry(after: .seconds(200))),
        Row(failure: .transient, attempt: 11, random: 0, expected: .retry(after: .seconds(300))),
        Row(failure: .transient, attempt: 12, random: 0, expected: .giveUp),
        Row(failure: .transient, attempt: 40, random: 0, expected: .giveUp),
        // Permanent: final at once, whatever the attempt.
        Row(failure: .permanent, attempt: 1, random: 0, expected: .giveUp),
        Row(failure: .permanent, attempt: 11, random: 0, expected: .giveUp),
        // A rate limit is waited out in whole seconds plus one and never runs out of attempts.
        Row(failure: .rateLimited(retryAfter: .seconds(2)), attempt: 1, random: 0, expected: .waitOut(.seconds(3))),
        Row(failure: .rateLimited(retryAfter: .milliseconds(1_500)), attempt: 1, random: 0, expected: .waitOut(.seconds(2))),
        Row(failure: .rateLimited(retryAfter: .zero), attempt: 5, random: 0, expected: .waitOut(.seconds(1))),
        Row(failure: .rateLimited(retryAfter: .seconds(30)), attempt: 12, random: 0, expected: .waitOut(.seconds(31))),
        Row(failure: .rateLimited(retryAfter: .seconds(86_400)), attempt: 100, random: 0, expected: .waitOut(.seconds(86_401))),
    ]

    @Test(arguments: effects) func effectsPolicy(_ row: Row) {
        #expect(RetryPolicy.effects.decide(row.failure, attempt: row.attempt, random: row.random) == row.expected)
    }

    static let standard: [Row] = [
        Row(failure: .transient, attempt: 1, random: 0, expected: .retry(after: .milliseconds(500))),
        Row(failure: .transient, attempt: 4, random: 1, expected: .retry(after: .seconds(6))),
        Row(failure: .transient, attempt: 5, random: 0, expected: .giveUp),
        Row(failure: .rateLimited(retryAfter: .seconds(60)), attempt: 1, random: 0, expected: .waitOut(.seconds(61))),
        // Longer than a connector waits in place: the caller gets the error.
        Row(failure: .rateLimited(retryAfter: .seconds(61)), attempt: 1, random: 0, expected: .giveUp),
    ]

    @Test(arguments: standard) func standardPolicy(_ row: Row) {
        #expect(RetryPolicy.standard.decide(row.failure, attempt: row.attempt, random: row.random) == row.expected)
    }

    @Test func oneAttemptNeverRetries() {
        #expect(RetryPolicy.never.decide(.transient, attempt: 1, random: 0) == .giveUp)
    }

    @Test func theEffectsBackoffStaysWithinItsBounds() {
        for attempt in 1...11 {
            for random in stride(from: -1.0, through: 1.0, by: 0.25) {
                guard case .retry(let after) = RetryPolicy.effects.decide(.transient, attempt: attempt, random: random) else {
                    Issue.record("attempt \(attempt) was not retried")
                    continue
                }
                let ceiling = Duration.seconds(min(1 << attempt, 300))
                #expect(after <= ceiling && after * 2 >= min(ceiling, .seconds(300)), "attempt \(attempt), random \(random): \(after)")
            }
        }
    }

    struct SentenceRow: Sendable {
        var failure: FailureClass
        var expected: String
    }

    static let sentences: [SentenceRow] = [
        SentenceRow(failure: .rateLimited(retryAfter: .seconds(5)), expected: "Meraki kept rate-limiting the request"),
        SentenceRow(failure: .transient, expected: "Meraki could not be reached or failed on its side"),
        SentenceRow(failure: .permanent, expected: "Meraki refused the request"),
    ]

    @Test(arguments: sentences) func aSentenceFollowsFromTheClassAlone(_ row: SentenceRow) {
        #expect(row.failure.sentence(service: "Meraki") == row.expected)
    }

    struct Opaque: Error, CustomStringConvertible {
        var description: String { "SQLITE_BUSY: database is locked at /var/lib/sentry.db" }
    }

    @Test func anUnclassifiedErrorMayPassIfTriedAgainAndSaysNothingOfItself() {
        #expect(FailureClass(of: Opaque()) == .transient)
        #expect(FailureClass.userFacing(Opaque()) == FailureClass.internalSentence)
        #expect(!FailureClass.userFacing(Opaque()).contains("SQLITE"))
    }
}
