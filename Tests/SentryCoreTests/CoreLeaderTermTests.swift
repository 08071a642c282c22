import Foundation
import Testing

@testable import SentryCore

/// The pollers' leader decides from its own attempts and its own clock: it leads from a won attempt until a
/// second before the row could expire for the others, and never past that without a renewal.
@Suite struct CoreLeaderTermTests {
    private let t0 = ContinuousClock.now
    private func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .seconds(seconds) }

    @Test func aWonAttemptLeadsAndRenewalsKeepLeading() {
        var term = LeaderTerm(ttl: .seconds(15), margin: .seconds(1))
        #expect(term.attempted(startedAt: at(0), held: true, now: at(0.1)) == .lead)
        #expect(term.trustedUntil == at(14))
        #expect(term.attempted(startedAt: at(5), held: true, now: at(5.2)) == .none)
        #expect(term.trustedUntil == at(19))
        #expect(term.checked(now: at(18.9)) == .none)
        #expect(term.isLeading)
    }

    @Test func someoneElseHoldingTheRowEndsTheTermAtOnce() {
        var term = LeaderTerm(ttl: .seconds(15), margin: .seconds(1))
        #expect(term.attempted(startedAt: at(0), held: false, now: at(0.1)) == .none)
        _ = term.attempted(startedAt: at(1), held: true, now: at(1.1))
        #expect(term.attempted(startedAt: at(6), held: false, now: at(6.1)) == .stepDown)
        #expect(!term.isLeading)
        #expect(term.attempted(startedAt: at(11), held: false, now: at(11.1)) == .none)
    }

    @Test func failedRenewalsKeepTheTermOnlyUntilItEnds() {
        var term = LeaderTerm(ttl: .seconds(15), margin: .seconds(1))
        _ = term.attempted(startedAt: at(0), held: true, now: at(0.1))
        // The database stops answering: the term it won at 0 s still holds until 14 s.
        #expect(term.attempted(startedAt: at(5), held: nil, now: at(10)) == .none)
        #expect(term.attempted(startedAt: at(10), held: nil, now: at(13.9)) == .none)
        #expect(term.checked(now: at(14)) == .stepDown)
        #expect(term.trustedUntil == nil)
        // Back: a won attempt leads again.
        #expect(term.attempted(startedAt: at(20), held: true, now: at(20.1)) == .lead)
    }

    @Test func aRenewalSlowerThanTheTermTrustsNothing() {
        var term = LeaderTerm(ttl: .seconds(15), margin: .seconds(1))
        // Won, but the answer came after the term it won had already ended for this replica.
        #expect(term.attempted(startedAt: at(0), held: true, now: at(14.5)) == .none)
        #expect(!term.isLeading)
        _ = term.attempted(startedAt: at(20), held: true, now: at(20.1))
        #expect(term.attempted(startedAt: at(25), held: true, now: at(40)) == .stepDown)
    }

    @Test func resigningStepsDownOnce() {
        var term = LeaderTerm()
        #expect(term.resigned() == .none)
        _ = term.attempted(startedAt: at(0), held: true, now: at(0))
        #expect(term.resigned() == .stepDown)
        #expect(term.resigned() == .none)
    }
}
