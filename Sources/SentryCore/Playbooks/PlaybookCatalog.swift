/// The loaded playbooks, indexed by detection: exact ids first, then patterns (`alertmanager.*`, `*`).
public struct PlaybookCatalog: Sendable, Equatable {
    public let playbooks: [Playbook]
    private let byDetection: [String: Playbook]
    /// Most specific first (`DetectionPattern.specificity`), then by id, so a tie lint let through still picks
    /// the same playbook every time; the catch-all `*` comes last.
    private let patterns: [Playbook]

    public init(_ playbooks: [Playbook]) {
        self.playbooks = playbooks.sorted { $0.id < $1.id }
        var index: [String: Playbook] = [:]
        var patterns: [Playbook] = []
        for playbook in self.playbooks {
            if DetectionPattern.isPattern(playbook.detection) {
                if !patterns.contains(where: { $0.detection == playbook.detection }) { patterns.append(playbook) }
            } else if index[playbook.detection] == nil {
                index[playbook.detection] = playbook
            }
        }
        self.byDetection = index
        // Stable sort: playbooks are already in id order.
        self.patterns = patterns.enumerated().sorted {
            let (a, b) = (DetectionPattern.specificity($0.element.detection), DetectionPattern.specificity($1.element.detection))
            return a != b ? a > b : $0.offset < $1.offset
        }.map(\.element)
    }

    /// The playbook answering a detection id: the exact one, else the most specific pattern (the catch-all last).
    public func playbook(for detection: String) -> Playbook? {
        if let exact = byDetection[detection] { return exact }
        return patterns.first { DetectionPattern.matches($0.detection, detection) }
    }

    public func playbook(id: String) -> Playbook? {
        playbooks.first { $0.id == id }
    }
}
