import Foundation
import SentryCore
import SentryStore

/// The weekly digest (`SENTRY_DIGEST`): one timer row on the pseudo alert `WeeklyDigest.timerAlertID`, a post to
/// the alert channel keyed by the week (so restarts and replicas post it once), then the next week's timer.
extension AlertEngine {
    /// Makes the digest timers match the settings: the current one is set when missing (a row already set keeps its
    /// due time, so a restart neither skips nor repeats a week), rows of other settings are removed, and all of them
    /// when the digest is off. Returns when the digest is due next (nil: off).
    @discardableResult
    public func scheduleDigest(_ schedule: DigestSchedule?, channel: String?, now: Date, calendar: Calendar = .current) async throws -> Date? {
        let wanted = schedule.flatMap { schedule in channel.map { WeeklyDigest.timerKind(schedule, channel: $0) } }
        let existing = try await store.timers(alertID: WeeklyDigest.timerAlertID).filter { timer in
            if case .weeklyDigest = timer.kind { return true }
            return false
        }
        if let wanted, let kept = existing.first(where: { $0.kind == wanted }), existing.count == 1 { return kept.dueAt }
        var effects: [AlertEffect] = existing.filter { $0.kind != wanted }.map { .cancelTimer($0.kind) }
        var due = existing.first { $0.kind == wanted }?.dueAt
        if let wanted, let schedule, due == nil {
            let next = schedule.next(after: now, calendar: calendar)
            effects.append(.scheduleTimer(wanted, at: next))
            due = next
        }
        guard !effects.isEmpty else { return due }
        let detail = wanted.map { "\($0.rawValue) next \(Timestamp.iso8601(due ?? now))" } ?? "off"
        let record = TransitionRecord(
            Transition(
                alert: nil, outcome: .applied, effects: effects, audit: AuditRecord(action: "digest.scheduled", actor: "sentry", detail: detail)),
            alertID: WeeklyDigest.timerAlertID, revision: nil)
        try await step { tx in try await tx.write(record, now: now) }
        return due
    }

    /// A due digest timer: deletes it, queues the post of the 7 days before its due time under the week's key
    /// (nothing when that week was posted already), and sets the timer for the next time after `now`, in one
    /// transaction. A timer someone else fired already changes nothing.
    public func fireDigest(_ timer: DueTimer, now: Date, calendar: Calendar = .current) async throws -> Transition {
        guard let (schedule, channel) = WeeklyDigest.settings(of: timer.kind) else {
            return try await step { tx in
                _ = try await tx.deleteTimer(alertID: timer.alertID, kind: timer.kind, dueBy: now)
                return Transition(alert: nil, outcome: .ignored("unreadable digest timer \(timer.kind.rawValue) removed"))
            }
        }
        let end = min(timer.dueAt, now)
        let stats = try await self.stats(days: 7, now: end, calendar: calendar)
        let week = WeeklyDigest.week(of: timer.dueAt, calendar: calendar)
        let digest = WeeklyDigest.message(stats, week: week)
        let post = AlertEffect.postReport(channel: channel, text: digest.text, blocks: digest.blocks)
        let next = schedule.next(after: max(now, timer.dueAt), calendar: calendar)
        return try await step { tx in
            guard try await tx.deleteTimer(alertID: timer.alertID, kind: timer.kind, dueBy: now) else {
                return Transition(alert: nil, outcome: .ignored("digest timer is no longer due"))
            }
            let queued = try await tx.enqueue(.unattached(post, idempotencyKey: WeeklyDigest.idempotencyKey(week: week)), now: now)
            let audit = AuditRecord(
                action: queued ? "digest.posted" : "digest.skipped", actor: "sentry",
                detail: "\(week) to \(channel): \(stats.total) alerts; next \(Timestamp.iso8601(next))")
            let transition = Transition(alert: nil, outcome: .applied, effects: [.scheduleTimer(timer.kind, at: next)], audit: audit)
            try await tx.write(TransitionRecord(transition, alertID: WeeklyDigest.timerAlertID, revision: nil), now: now)
            return Transition(alert: nil, outcome: .applied, effects: queued ? [post] : [], audit: audit)
        }
    }
}
