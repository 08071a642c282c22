import Foundation

/// What the numbers need of one alert, as a store returns it for a time range (`AlertStore.statsRows`). The SQL
/// stores keep these fields in columns of their own, written from the alert on every write (`init(_:)` says what
/// they hold), so a range is read through the creation-time index without decoding any alert.
public struct AlertStatsRow: Equatable, Sendable {
    public var alertID: String
    public var createdAt: Date
    public var acknowledgedAt: Date?
    /// When it was resolved or dismissed.
    public var closedAt: Date?
    public var status: AlertStatus
    public var playbookID: String
    public var detection: String
    /// The subject as a responder names it (`AlertStats.label`), nil when it has no field.
    public var subjectLabel: String?
    /// Of the alert's containments: carried out (active at some point), approved by someone, rejected, rolled back.
    public var containmentsPlaced: Int
    public var containmentsApproved: Int
    public var containmentsRejected: Int
    public var containmentsRolledBack: Int

    public init(
        alertID: String, createdAt: Date, acknowledgedAt: Date?, closedAt: Date?, status: AlertStatus, playbookID: String, detection: String,
        subjectLabel: String?, containmentsPlaced: Int = 0, containmentsApproved: Int = 0, containmentsRejected: Int = 0,
        containmentsRolledBack: Int = 0
    ) {
        self.alertID = alertID
        self.createdAt = createdAt
        self.acknowledgedAt = acknowledgedAt
        self.closedAt = closedAt
        self.status = status
        self.playbookID = playbookID
        self.detection = detection
        self.subjectLabel = subjectLabel
        self.containmentsPlaced = containmentsPlaced
        self.containmentsApproved = containmentsApproved
        self.containmentsRejected = containmentsRejected
        self.containmentsRolledBack = containmentsRolledBack
    }

    public init(_ alert: Alert) {
        let containments = alert.containments
        self.init(
            alertID: alert.id, createdAt: alert.createdAt, acknowledgedAt: alert.acknowledgedAt, closedAt: alert.closedAt, status: alert.status,
            playbookID: alert.playbookID, detection: alert.detection, subjectLabel: AlertStats.label(alert.subject),
            containmentsPlaced: containments.filter { $0.activeSince != nil }.count,
            containmentsApproved: containments.filter { !$0.approvals.isEmpty }.count,
            containmentsRejected: containments.filter { $0.status == .rejected }.count,
            containmentsRolledBack: containments.filter { $0.status == .released && $0.activeSince != nil }.count)
    }
}

/// The numbers of `/sentry stats` and the weekly digest, worked out from the alerts created in a period.
public struct AlertStats: Equatable, Sendable {
    public struct Count: Equatable, Sendable {
        public var name: String
        public var count: Int
    }

    /// Median and 90th percentile of a duration, in seconds (nil when nothing was measured).
    public struct Spread: Equatable, Sendable {
        public var median: TimeInterval?
        public var p90: TimeInterval?
        public var samples: Int
    }

    public var from: Date
    public var to: Date
    public var total: Int
    /// Most alerts first, then by name.
    public var perPlaybook: [Count]
    public var timeToAcknowledge: Spread
    /// From creation to resolution (dismissed alerts are not resolved).
    public var timeToResolve: Spread
    /// Containments that were carried out (active at some point), approved by someone, rejected, and rolled back.
    public var containmentsPlaced: Int
    public var containmentsApproved: Int
    public var containmentsRejected: Int
    public var containmentsRolledBack: Int
    public var noisiestDetections: [Count]
    public var noisiestSubjects: [Count]
    /// Alerts per day for the 7 days ending at `to`, oldest first.
    public var lastSevenDays: [Int]

    /// How many names the noisiest lists keep.
    public static let topCount = 5

    public init(rows: [AlertStatsRow], from: Date, to: Date, calendar: Calendar = .current) {
        self.from = from
        self.to = to
        // One pass over the rows: a 30-day range of a busy store holds 100,000 of them.
        var playbooks: [String: Int] = [:]
        var detections: [String: Int] = [:]
        var subjects: [String: Int] = [:]
        var acknowledge: [TimeInterval] = []
        var resolve: [TimeInterval] = []
        var (total, placed, approved, rejected, rolledBack) = (0, 0, 0, 0, 0)
        // Calendar days in the server's zone: the last one is the day of `to` (up to `to`).
        let lastDay = calendar.startOfDay(for: to.addingTimeInterval(-0.001))
        let dayStarts = (0...7).reversed().map { back in calendar.date(byAdding: .day, value: 1 - back, to: lastDay) ?? lastDay }
        var days = [Int](repeating: 0, count: 7)
        for row in rows where row.createdAt < to {
            if row.createdAt >= dayStarts[0], row.createdAt < dayStarts[7], let day = (1...7).first(where: { row.createdAt < dayStarts[$0] }) {
                days[day - 1] += 1
            }
            guard row.createdAt >= from else { continue }
            total += 1
            playbooks[row.playbookID, default: 0] += 1
            detections[row.detection, default: 0] += 1
            if let label = row.subjectLabel { subjects[label, default: 0] += 1 }
            if let acknowledged = row.acknowledgedAt { acknowledge.append(acknowledged.timeIntervalSince(row.createdAt)) }
            if row.status == .resolved, let closed = row.closedAt { resolve.append(closed.timeIntervalSince(row.createdAt)) }
            placed += row.containmentsPlaced
            approved += row.containmentsApproved
            rejected += row.containmentsRejected
            rolledBack += row.containmentsRolledBack
        }
        self.total = total
        perPlaybook = Self.counts(playbooks)
        timeToAcknowledge = Self.spread(acknowledge)
        timeToResolve = Self.spread(resolve)
        containmentsPlaced = placed
        containmentsApproved = approved
        containmentsRejected = rejected
        containmentsRolledBack = rolledBack
        noisiestDetections = Array(Self.counts(detections).prefix(Self.topCount))
        noisiestSubjects = Array(Self.counts(subjects).prefix(Self.topCount))
        lastSevenDays = days
    }

    static func counts(_ counted: [String: Int]) -> [Count] {
        counted.map { Count(name: $0.key, count: $0.value) }.sorted { ($0.count, $1.name) > ($1.count, $0.name) }
    }

    /// Nearest-rank percentiles over the sorted samples.
    static func spread(_ samples: [TimeInterval]) -> Spread {
        let sorted = samples.map { max(0, $0) }.sorted()
        func rank(_ p: Double) -> TimeInterval? {
            guard !sorted.isEmpty else { return nil }
            let index = Int((p * Double(sorted.count)).rounded(.up)) - 1
            return sorted[min(max(index, 0), sorted.count - 1)]
        }
        return Spread(median: rank(0.5), p90: rank(0.9), samples: sorted.count)
    }

    /// The subject as a responder names it: the most telling field present.
    public static func label(_ subject: Subject) -> String? {
        if let user = subject.slackUserID { return "<@\(user)>" }
        let fields: [String?] = [
            subject.email, subject.account, subject.ip, subject.host, subject.merakiSerial, subject.merakiNetworkID, subject.rule,
        ]
        return fields.compactMap { $0 }.first
    }

    /// ▁▂▃▄▅▆▇ scaled to the busiest day (a day without alerts is the lowest bar).
    public static func sparkLine(_ values: [Int]) -> String {
        let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇"]
        let top = values.max() ?? 0
        return String(
            values.map { value in
                guard top > 0, value > 0 else { return bars[0] }
                return bars[min(bars.count - 1, Int((Double(value) / Double(top) * Double(bars.count - 1)).rounded()))]
            })
    }
}
