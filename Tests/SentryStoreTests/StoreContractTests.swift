import Foundation
import SentryStore
import SentryTestSupport
import Testing

@testable import SentryCore
@testable import SentryEngine

private typealias F = CoreFixtures

/// The store contract, run on every store (`StoreKind`) through the engine: ingest (idempotency by detection id,
/// the grouping window), transitions with their audit chain, the outbox (coalescing, attempts), timers; and, for
/// SQLite, tampering with the chain and reopening the file.
@Suite struct StoreContractTests {
    private func at(_ seconds: TimeInterval) -> Date { F.t0.addingTimeInterval(seconds) }

    private func click(_ action: AlertAction, by user: String = F.alice, mayAct: Bool = true) -> AlertEvent {
        .clicked(Click(action: action, userID: user, mayAct: mayAct, responseURL: nil))
    }

    private func allAudit(_ store: any AlertStore) async throws -> [AuditEntry] {
        try await store.auditEntries(after: 0, limit: 10_000)
    }

    private func pending(_ store: any AlertStore, _ alertID: String) async throws -> [AlertEffect] {
        try await store.outbox(alertID: alertID).filter { $0.state == "pending" }.map(\.effect)
    }

    // MARK: Ingest

    @Test(arguments: StoreKind.allCases) func firstDetectionCreatesAnAlertWithPostTimerAndAudit(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let result = try await store.engine.ingest(
            F.detection(id: "d1"), playbook: F.playbook(ackTimeout: 900), channel: F.channel, newAlertID: "A1", now: F.t0)
        #expect(result.alertID == "A1")
        #expect(result.status == .created)
        #expect(result.transition?.outcome == .applied)

        let alert = try #require(try await store.alert(id: "A1"))
        #expect(alert == result.transition?.alert)
        #expect(alert.status == .open)
        #expect(try await pending(store, "A1") == [.postAlert])
        #expect(try await store.hasPendingPost(alertID: "A1"))
        #expect(try await store.dueTimers(now: at(899), limit: 10) == [])
        #expect(try await store.dueTimers(now: at(900), limit: 10) == [DueTimer(alertID: "A1", kind: .ackTimeout, dueAt: at(900))])
        #expect(try await store.nextTimerDue() == at(900))
        let audit = try await allAudit(store)
        #expect(audit.map(\.action) == ["alert.created"])
        #expect(audit.first?.alertID == "A1")
        #expect(try await store.countAlerts() == [.open: 1])
    }

    @Test(arguments: StoreKind.allCases) func sameDetectionIDTwiceIsADuplicateAndChangesNothing(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        let before = (try await store.alert(id: "A1"), try await store.outbox(alertID: nil), try await allAudit(store))

        // Even with a different subject the id decides: the engine retried.
        let again = try await store.engine.ingest(
            F.detection(id: "d1", subject: Subject(ip: "198.51.100.1")), playbook: F.playbook(), channel: F.channel, newAlertID: "A2", now: at(5))
        #expect(again == IngestResult(alertID: "A1", status: .duplicate, transition: nil))
        #expect(try await store.alert(id: "A1") == before.0)
        #expect(try await store.alert(id: "A2") == nil)
        #expect(try await store.outbox(alertID: nil) == before.1)
        #expect(try await allAudit(store) == before.2)
    }

    @Test(arguments: StoreKind.allCases) func sameDetectionAndSubjectInsideTheWindowGroups(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let playbook = F.playbook(groupingWindow: 3_600)
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: playbook, channel: F.channel, newAlertID: "A1", now: F.t0)
        let grouped = try await store.engine.ingest(
            F.detection(id: "d2", severity: .critical), playbook: playbook, channel: F.channel, newAlertID: "A2", now: at(3_599))
        #expect(grouped.alertID == "A1")
        #expect(grouped.status == .grouped)
        let alert = try #require(try await store.alert(id: "A1"))
        #expect(alert.occurrences == 2)
        #expect(alert.severity == .critical)
        #expect(try await store.alert(id: "A2") == nil)
        #expect(try await pending(store, "A1") == [.postAlert, .updateMessage])

        // d2 is now known too.
        let retry = try await store.engine.ingest(F.detection(id: "d2"), playbook: playbook, channel: F.channel, newAlertID: "A3", now: at(3_599))
        #expect(retry.status == .duplicate)
        #expect(retry.alertID == "A1")
    }

    @Test(arguments: StoreKind.allCases) func anotherSubjectOrDetectionIsANewAlert(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        let otherIP = try await store.engine.ingest(
            F.detection(id: "d2", subject: Subject(ip: "203.0.113.8")), playbook: F.playbook(), channel: F.channel, newAlertID: "A2", now: at(1))
        let otherDetection = try await store.engine.ingest(
            F.detection(id: "d3", detection: "custom.thing"), playbook: F.playbook(), channel: F.channel, newAlertID: "A3", now: at(2))
        #expect(otherIP.status == .created)
        #expect(otherDetection.status == .created)
        #expect(try await store.countAlerts() == [.open: 3])
    }

    @Test(arguments: StoreKind.allCases) func afterTheGroupingWindowANewAlertStarts(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let playbook = F.playbook(groupingWindow: 600)
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: playbook, channel: F.channel, newAlertID: "A1", now: F.t0)
        let groupUntil = try #require(try await store.alert(id: "A1")).groupUntil
        #expect(groupUntil == at(600))
        let late = try await store.engine.ingest(
            F.detection(id: "d2"), playbook: playbook, channel: F.channel, newAlertID: "A2", now: groupUntil.addingTimeInterval(1))
        #expect(late.status == .created)
        #expect(late.alertID == "A2")
        #expect(try await store.alert(id: "A1")?.occurrences == 1)
        // The next one groups onto the newest alert.
        let next = try await store.engine.ingest(
            F.detection(id: "d3"), playbook: playbook, channel: F.channel, newAlertID: "A3", now: groupUntil.addingTimeInterval(2))
        #expect(next.status == .grouped)
        #expect(next.alertID == "A2")
    }

    @Test(arguments: StoreKind.allCases, [AlertAction.resolve, .dismiss])
    func aFinishedAlertGroupsNothing(_ kind: StoreKind, action: AlertAction) async throws {
        let store = try await kind.make()
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        _ = try await store.engine.apply(click(action), to: "A1", now: at(10))
        let after = try await store.engine.ingest(F.detection(id: "d2"), playbook: F.playbook(), channel: F.channel, newAlertID: "A2", now: at(20))
        #expect(after.status == .created)
        #expect(after.alertID == "A2")
        #expect(try await store.alert(id: "A1")?.occurrences == 1)
    }

    @Test(arguments: StoreKind.allCases) func anAcknowledgedAlertStillGroups(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        _ = try await store.engine.apply(click(.ack), to: "A1", now: at(10))
        let after = try await store.engine.ingest(F.detection(id: "d2"), playbook: F.playbook(), channel: F.channel, newAlertID: "A2", now: at(20))
        #expect(after.status == .grouped)
        #expect(after.alertID == "A1")
    }

    // MARK: Transitions and the audit chain

    /// An alert taken through creation, grouping, a refused click, posting, acknowledgement and resolution.
    private func storyStore(path: String? = nil) async throws -> SQLiteAlertStore {
        let store = try path.map { try SQLiteAlertStore(path: $0) } ?? SQLiteAlertStore.inMemory()
        try await tellStory(store)
        return store
    }

    private func storyStore(_ kind: StoreKind) async throws -> any SentryStorage {
        let store = try await kind.make()
        try await tellStory(store)
        return store
    }

    private func tellStory(_ store: any AlertStore) async throws {
        _ = try await store.engine.ingest(
            F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0.addingTimeInterval(0.123_4))
        _ = try await store.engine.ingest(F.detection(id: "d2"), playbook: F.playbook(), channel: F.channel, newAlertID: "A2", now: at(10))
        _ = try await store.engine.apply(click(.ack, by: F.bob, mayAct: false), to: "A1", now: at(15))
        _ = try await store.engine.apply(.messagePosted(MessageRef(channel: F.channel, ts: "1790000001.000100")), to: "A1", now: at(20))
        _ = try await store.engine.apply(click(.ack), to: "A1", now: at(30))
        _ = try await store.engine.apply(click(.resolve), to: "A1", now: at(40.567_8))
    }

    @Test(arguments: StoreKind.allCases) func everyAppliedTransitionIsAuditedAndTheChainVerifies(_ kind: StoreKind) async throws {
        let store = try await storyStore(kind)
        let audit = try await allAudit(store)
        #expect(audit.map(\.action) == ["alert.created", "alert.grouped", "click.refused", "message.posted", "alert.acknowledged", "alert.resolved"])
        #expect(audit.map(\.seq) == [1, 2, 3, 4, 5, 6])
        #expect(audit.allSatisfy { $0.alertID == "A1" })
        #expect(audit[2].actor == F.bob)
        #expect(audit.first?.prevHash == AuditChain.genesis)
        #expect(AuditChain.verify(audit) == .intact(entries: 6))
        // Paging reads the same chain.
        let tail = try await store.auditEntries(after: 3, limit: 2)
        #expect(tail.map(\.seq) == [4, 5])
    }

    @Test(arguments: StoreKind.allCases) func ignoredEventsWriteNoAuditAndNoStateButStillAnswer(_ kind: StoreKind) async throws {
        let store = try await storyStore(kind)
        let before = (try await store.alert(id: "A1"), try await allAudit(store))
        let transition = try await store.engine.apply(click(.ack, by: F.bob), to: "A1", now: at(50))
        guard case .ignored = transition.outcome else {
            Issue.record("expected ignored, got \(transition.outcome)")
            return
        }
        #expect(try await store.alert(id: "A1") == before.0)
        #expect(try await allAudit(store) == before.1)
        // The clicker is still told why.
        let told = try await store.outbox(alertID: "A1").filter { if case .tellUser(F.bob, _, _) = $0.effect { true } else { false } }
        // The refusal at 15 s is still pending, so this answer coalesces into it: one answer per user at a time.
        #expect(told.count == 1)
        // Once that answer is sent, the next ignored click gets its own.
        try await store.engine.completeEffect(try await store.held(try #require(told.first?.id)), now: at(51))
        _ = try await store.engine.apply(click(.ack, by: F.bob), to: "A1", now: at(52))
        let toldAgain = try await store.outbox(alertID: "A1").filter { if case .tellUser(F.bob, _, _) = $0.effect { true } else { false } }
        #expect(toldAgain.count == 2)
    }

    @Test(arguments: StoreKind.allCases) func clickOnAnUnknownAlertAnswersWithoutAnAlert(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let transition = try await store.engine.apply(click(.ack, by: F.bob), to: "A404", now: F.t0)
        guard case .rejected = transition.outcome else {
            Issue.record("expected rejected, got \(transition.outcome)")
            return
        }
        #expect(try await store.alert(id: "A404") == nil)
        #expect(try await allAudit(store) == [])
        let outbox = try await store.outbox(alertID: nil)
        #expect(outbox.count == 1)
        #expect(outbox.first?.alertID == nil)
        #expect(outbox.first?.effect.coreKind == "tellUser")
    }

    @Test func changedDetailIsDetectedAtThatEntry() async throws {
        let store = try await storyStore()
        try await store.unsafeExecute("UPDATE audit SET detail = 'from open (edited)' WHERE seq = 5")
        let verdict = AuditChain.verify(try await allAudit(store))
        guard case .broken(let seq, let reason) = verdict else {
            Issue.record("tampering not detected: \(verdict)")
            return
        }
        #expect(seq == 5)
        #expect(reason.contains("changed"))
        #expect(verdict.description.contains("entry 5"))
    }

    @Test(arguments: ["actor = 'U0MALLORY'", "action = 'alert.dismissed'", "alert_id = 'A2'", "alert_id = NULL", "at = at + 1"])
    func anyChangedFieldIsDetected(assignment: String) async throws {
        let store = try await storyStore()
        try await store.unsafeExecute("UPDATE audit SET \(assignment) WHERE seq = 3")
        #expect(AuditChain.verify(try await allAudit(store)) == .broken(seq: 3, reason: "contents changed after it was written"))
    }

    @Test func rehashingOneEntryBreaksTheNext() async throws {
        let store = try await storyStore()
        var entries = try await allAudit(store)
        let forged = AuditChain.hash(
            prev: entries[3].prevHash, seq: 4, at: entries[3].at, alertID: entries[3].alertID, actor: "U0MALLORY",
            action: entries[3].action, detail: entries[3].detail)
        try await store.unsafeExecute("UPDATE audit SET actor = 'U0MALLORY', hash = '\(forged)' WHERE seq = 4")
        entries = try await allAudit(store)
        guard case .broken(let seq, _) = AuditChain.verify(entries) else {
            Issue.record("forgery not detected")
            return
        }
        #expect(seq == 5)
    }

    @Test func deletedEntryIsDetectedAtTheOneAfterIt() async throws {
        let store = try await storyStore()
        try await store.unsafeExecute("DELETE FROM audit WHERE seq = 3")
        guard case .broken(let seq, let reason) = AuditChain.verify(try await allAudit(store)) else {
            Issue.record("deletion not detected")
            return
        }
        #expect(seq == 4)
        #expect(reason.contains("3"))
    }

    @Test func deletedFirstEntryIsDetected() async throws {
        let store = try await storyStore()
        try await store.unsafeExecute("DELETE FROM audit WHERE seq = 1")
        guard case .broken(let seq, _) = AuditChain.verify(try await allAudit(store)) else {
            Issue.record("deletion not detected")
            return
        }
        #expect(seq == 2)
    }

    @Test func swappedEntriesAreDetected() async throws {
        let store = try await storyStore()
        try await store.unsafeExecute("UPDATE audit SET seq = -1 WHERE seq = 2")
        try await store.unsafeExecute("UPDATE audit SET seq = 2 WHERE seq = 3")
        try await store.unsafeExecute("UPDATE audit SET seq = 3 WHERE seq = -1")
        let entries = try await allAudit(store)
        #expect(entries.map(\.action).prefix(3) == ["alert.created", "click.refused", "alert.grouped"])
        guard case .broken(let seq, _) = AuditChain.verify(entries) else {
            Issue.record("swap not detected")
            return
        }
        #expect(seq == 2)
    }

    @Test func appendingAfterTamperingDoesNotHealTheChain() async throws {
        let store = try await storyStore()
        try await store.unsafeExecute("UPDATE audit SET detail = 'x' WHERE seq = 2")
        _ = try await store.engine.ingest(
            F.detection(id: "d9", subject: Subject(ip: "198.51.100.9")), playbook: F.playbook(), channel: F.channel, newAlertID: "A9", now: at(100))
        #expect(AuditChain.verify(try await allAudit(store)) == .broken(seq: 2, reason: "contents changed after it was written"))
    }

    // MARK: Outbox

    @Test(arguments: StoreKind.allCases) func groupedDetectionsBeforeTheUpdateRunsLeaveOnePendingUpdate(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        for index in 2...5 {
            let result = try await store.engine.ingest(
                F.detection(id: "d\(index)"), playbook: F.playbook(), channel: F.channel, newAlertID: "X\(index)", now: at(Double(index)))
            #expect(result.status == .grouped)
        }
        #expect(try await pending(store, "A1") == [.postAlert, .updateMessage])
        #expect(try await store.alert(id: "A1")?.occurrences == 5)

        // Once that update has run, the next change needs a new one.
        let update = try #require(try await store.outbox(alertID: "A1").first { $0.effect == .updateMessage })
        // (Finished directly: the runner would run it only after the post, which this test leaves pending.)
        try await store.transaction { tx in try await tx.finishEffect(update.id, .done, error: nil, owner: nil, now: self.at(10)) }
        _ = try await store.engine.ingest(F.detection(id: "d6"), playbook: F.playbook(), channel: F.channel, newAlertID: "X6", now: at(11))
        #expect(try await pending(store, "A1") == [.postAlert, .updateMessage])
        #expect(try await store.outbox(alertID: "A1").filter { $0.effect == .updateMessage }.count == 2)
    }

    @Test(arguments: StoreKind.allCases) func updatesOfDifferentAlertsDoNotCoalesce(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        _ = try await store.engine.ingest(
            F.detection(id: "d2", subject: Subject(ip: "198.51.100.2")), playbook: F.playbook(), channel: F.channel, newAlertID: "A2", now: F.t0)
        _ = try await store.engine.apply(click(.ack), to: "A1", now: at(1))
        _ = try await store.engine.apply(click(.ack), to: "A2", now: at(1))
        #expect(try await pending(store, "A1").filter { $0 == .updateMessage }.count == 1)
        #expect(try await pending(store, "A2").filter { $0 == .updateMessage }.count == 1)
    }

    @Test(arguments: StoreKind.allCases) func beginAttemptCountsAttempts(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        let post = try #require(try await store.dueEffects(now: F.t0, limit: 10).first)
        #expect(post.effect == .postAlert)
        #expect(post.attempts == 0)
        #expect(try await store.engine.beginAttempt(try await store.held(post.id)) == 0)
        #expect(try await store.engine.beginAttempt(try await store.held(post.id)) == 1)
        #expect(try await store.engine.beginAttempt(try await store.held(post.id)) == 2)
        #expect(try await store.outbox(alertID: "A1").first?.attempts == 3)
    }

    @Test(arguments: StoreKind.allCases) func retryPostponesAndFailureEndsAnEffect(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        let post = try #require(try await store.dueEffects(now: F.t0, limit: 10).first)
        try await store.engine.retryEffect(try await store.held(post.id), error: "ratelimited", at: at(30), countAttempt: true)
        #expect(try await store.dueEffects(now: at(29), limit: 10) == [])
        let due = try await store.dueEffects(now: at(30), limit: 10)
        #expect(due.map(\.id) == [post.id])
        #expect(due.first?.lastError == "ratelimited")
        #expect(try await store.outboxDepth() == 1)

        try await store.engine.failEffect(try await store.held(post.id), error: "channel_not_found", now: at(31))
        #expect(try await store.dueEffects(now: at(1_000), limit: 10) == [])
        #expect(try await store.outboxDepth() == 0)
        #expect(!(try await store.hasPendingPost(alertID: "A1")))
        let failed = try #require(try await store.outbox(alertID: "A1").first)
        #expect(failed.state == "failed")
        #expect(failed.lastError == "channel_not_found")
    }

    @Test(arguments: StoreKind.allCases) func completingAnEffectWithItsResultIsOneStep(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A1", now: F.t0)
        let post = try #require(try await store.dueEffects(now: F.t0, limit: 10).first)
        let ref = MessageRef(channel: F.channel, ts: "1790000001.000100")
        let transition = try await store.engine.apply(.messagePosted(ref), to: "A1", now: at(1), completing: try await store.held(post.id))
        #expect(transition.outcome == .applied)
        #expect(try await store.alert(id: "A1")?.message == ref)
        #expect(try await store.outbox(alertID: "A1").first?.state == "done")
        #expect(!(try await store.hasPendingPost(alertID: "A1")))
    }

    @Test(arguments: StoreKind.allCases) func enqueueIsIdempotentByKey(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let effect = AlertEffect.postNotice(channel: "C0OTHER", text: "hello")
        #expect(try await store.engine.enqueue(effect, idempotencyKey: "event:Ev1", now: F.t0))
        #expect(!(try await store.engine.enqueue(effect, idempotencyKey: "event:Ev1", now: at(1))))
        #expect(try await store.outbox(alertID: nil).count == 1)
    }

    // MARK: Timers

    @Test(arguments: StoreKind.allCases) func acknowledgingCancelsTheTimer(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await store.engine.ingest(
            F.detection(id: "d1"), playbook: F.playbook(ackTimeout: 900), channel: F.channel, newAlertID: "A1", now: F.t0)
        #expect(try await store.nextTimerDue() == at(900))
        _ = try await store.engine.apply(click(.ack), to: "A1", now: at(60))
        #expect(try await store.nextTimerDue() == nil)
        #expect(try await store.dueTimers(now: at(100_000), limit: 10) == [])
    }

    @Test(arguments: StoreKind.allCases) func timersFireEscalateRescheduleAndStop(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        let playbook = F.playbook(ackTimeout: 900, escalation: Escalation(mention: ["here"], repeatCount: 2))
        _ = try await store.engine.ingest(F.detection(id: "d1"), playbook: playbook, channel: F.channel, newAlertID: "A1", now: F.t0)

        let first = try #require(try await store.dueTimers(now: at(900), limit: 10).first)
        let fired = try await store.engine.fire(first, now: at(901))
        #expect(fired.outcome == .applied)
        #expect(try await store.alert(id: "A1")?.escalations == 1)
        #expect(try await store.dueTimers(now: at(1_800), limit: 10) == [])
        #expect(try await store.nextTimerDue() == at(1_801))
        #expect(try await pending(store, "A1").map(\.coreKind) == ["postAlert", "replyInThread", "updateMessage"])

        let second = try #require(try await store.dueTimers(now: at(1_801), limit: 10).first)
        _ = try await store.engine.fire(second, now: at(1_801))
        #expect(try await store.alert(id: "A1")?.escalations == 2)
        #expect(try await store.nextTimerDue() == nil)

        // A stale copy of the timer firing again changes nothing.
        let again = try await store.engine.fire(second, now: at(1_900))
        guard case .ignored = again.outcome else {
            Issue.record("expected ignored, got \(again.outcome)")
            return
        }
        #expect(try await store.alert(id: "A1")?.escalations == 2)
        #expect(AuditChain.verify(try await allAudit(store)) == .intact(entries: 3))
    }

    @Test(arguments: StoreKind.allCases) func timerFiringAfterAcknowledgementIsIgnored(_ kind: StoreKind) async throws {
        let store = try await kind.make()
        _ = try await store.engine.ingest(
            F.detection(id: "d1"), playbook: F.playbook(ackTimeout: 900), channel: F.channel, newAlertID: "A1", now: F.t0)
        let timer = try #require(try await store.dueTimers(now: at(900), limit: 10).first)
        _ = try await store.engine.apply(click(.ack), to: "A1", now: at(899))
        let fired = try await store.engine.fire(timer, now: at(900))
        guard case .ignored = fired.outcome else {
            Issue.record("expected ignored, got \(fired.outcome)")
            return
        }
        #expect(try await store.alert(id: "A1")?.escalations == 0)
    }

    // MARK: A file that outlives the process

    @Test func reopeningTheFileKeepsAlertsOutboxTimersAndAudit() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("sentry.db").path

        var before: (Alert?, Alert?, [OutboxEntry], [DueTimer], [AuditEntry])
        do {
            let store = try await storyStore(path: path)
            _ = try await store.engine.beginAttempt(try await store.held(try #require(try await store.dueEffects(now: at(100), limit: 1).first).id))
            before = (
                try await store.alert(id: "A1"), try await store.alert(id: "A2"), try await store.outbox(alertID: nil),
                try await store.dueTimers(now: at(100_000), limit: 100), try await allAudit(store)
            )
        }
        #expect(before.0?.status == .resolved)
        #expect(!before.2.isEmpty)
        #expect(before.4.count == 6)

        // A second, unrelated alert with a live timer, written by the first process.
        do {
            let store = try SQLiteAlertStore(path: path)
            _ = try await store.engine.ingest(
                F.detection(id: "d7", subject: Subject(ip: "198.51.100.7")), playbook: F.playbook(ackTimeout: 900), channel: F.channel,
                newAlertID: "A7", now: at(50))
            before.3 = try await store.dueTimers(now: at(100_000), limit: 100)
            before.2 = try await store.outbox(alertID: nil)
            before.4 = try await allAudit(store)
        }
        #expect(before.3 == [DueTimer(alertID: "A7", kind: .ackTimeout, dueAt: at(950))])

        let reopened = try SQLiteAlertStore(path: path)
        #expect(try await reopened.alert(id: "A1") == before.0)
        #expect(try await reopened.alert(id: "A2") == before.1)
        #expect(try await reopened.outbox(alertID: nil) == before.2)
        #expect(try await reopened.dueTimers(now: at(100_000), limit: 100) == before.3)
        #expect(try await allAudit(reopened) == before.4)
        #expect(AuditChain.verify(before.4) == .intact(entries: 7))
        #expect(try await reopened.outbox(alertID: nil).contains { $0.attempts == 1 })

        // And it carries on where it stopped.
        let duplicate = try await reopened.engine.ingest(
            F.detection(id: "d1"), playbook: F.playbook(), channel: F.channel, newAlertID: "A99", now: at(60))
        #expect(duplicate.status == .duplicate)
        _ = try await reopened.engine.apply(click(.ack), to: "A7", now: at(70))
        #expect(try await reopened.nextTimerDue() == nil)
        #expect(AuditChain.verify(try await allAudit(reopened)) == .intact(entries: 8))
    }
}
