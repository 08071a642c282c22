/// How urgent an alert is; drives colour, emoji and ordering.
public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    case low, medium, high, critical

    private var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        case .critical: 3
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }

    public var emoji: String {
        switch self {
        case .low: ":large_blue_circle:"
        case .medium: ":large_yellow_circle:"
        case .high: ":large_orange_circle:"
        case .critical: ":red_circle:"
        }
    }
}
