import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// Playbooks answering engine detections: `detection:` patterns, `subject_from:` and `auto_resolve:`.
@Suite struct CoreDetectionPatternTests {
    static let matching: [(String, String, Bool)] = [
        ("alertmanager.*", "alertmanager.instancedown", true),
        ("alertmanager.*", "alertmanager.", true),
        ("alertmanager.*", "alertmanager", false),
        ("alertmanager.*", "grafana.instancedown", false),
        ("*", "anything.at_all", true),
        ("*.brute_force", "panther.okta.brute_force", true),
        ("*.brute_force", "panther.okta.brute_force_logins", false),
        ("azure.*-burst", "azure.ir-failed-logons-burst", true),
        ("azure.*-burst", "azure.ir-failed-logons-bursts", false),
        ("a*b*c", "aXbYc".lowercased(), true),
        ("a*b*c", "acb", false),
        ("a*a", "a", false),
        ("a*a", "aa", true),
        ("slack.max_daily_download", "slack.max_daily_download", true),
        ("slack.max_daily_download", "slack.max_daily_downloads", false),
    ]

    @Test(arguments: matching.indices)
    func patternMatches(_ index: Int) {
        let (pattern, id, expected) = Self.matching[index]
        #expect(DetectionPattern.matches(pattern, id) == expected, "\(pattern) ~ \(id)")
    }

    @Test func validPatterns() {
        for good in ["alertmanager.*", "*", "*.x", "a*b*c", "slack.max_daily_download"] { #expect(DetectionPattern.isValid(good), "\(good)") }
        for bad in ["", "**", "alertmanager.**", "Alertmanager.*", "a b", "a/*", String(repeating: "a", count: 101)] {
            #expect(!DetectionPattern.isValid(bad), "\(bad)")
        }
        #expect(DetectionPattern.specificity("alertmanager.*") == 13)
        #expect(DetectionPattern.specificity("*") == 0)
    }

    static let overlaps: [(String, String, Bool)] = [
        ("alertmanager.*", "*.instancedown", true),
        ("alertmanager.*", "grafana.*", false),
        ("a*", "*b", true),
        ("a*c", "b*", false),
        ("*x*", "*y*", true),
        ("ab*", "a*c", true),
        ("abc", "a*", true),
        ("abc", "abd", false),
        ("a*b", "a*b", true),
    ]

    @Test(arguments: overlaps.indices)
    func commonMatchIsAnIDBothMatch(_ index: Int) {
        let (a, b, expected) = Self.overlaps[index]
        let common = DetectionPattern.commonMatch(a, b)
        #expect((common != nil) == expected, "\(a) & \(b)")
        if let common {
            #expect(DetectionPattern.matches(a, common) && DetectionPattern.matches(b, common), "\(common)")
        }
    }

    /// Overlap found by the walk agrees with brute force over short ids of a small alphabet.
    @Test func commonMatchAgreesWithBruteForce() {
        let patterns = ["*", "a*", "*a", "a*b", "*ab*", "b*a", "ab", "a*a*", "*b*b", "ba*", "aab", "*.a", "a.*"]
        var ids: [String] = [""]
        for _ in 0..<5 { ids += ids.flatMap { id in ["a", "b", "."].map { id + $0 } } }
        ids = Array(Set(ids))
        for a in patterns {
            for b in patterns {
                let brute = ids.contains { DetectionPattern.matches(a, $0) && DetectionPattern.matches(b, $0) }
                #expect((DetectionPattern.commonMatch(a, b) != nil) == brute, "\(a) & \(b)")
            }
        }
    }

    private func playbook(_ id: String, _ detection: String, source: String? = nil) -> Playbook {
        Playbook(id: id, title: id, detection: detection, severity: .low, source: source ?? "\(id).yml")
    }

    @Test func exactIDsWinOverPatternsAndLongerPatternsOverShorter() {
        let catalog = PlaybookCatalog([
            playbook("catch-all", "*"),
            playbook("am", "alertmanager.*"),
            playbook("am-instance", "alertmanager.instance*"),
            playbook("am-exact", "alertmanager.instancedown"),
            playbook("downs", "*down"),
        ])
        #expect(catalog.playbook(for: "alertmanager.instancedown")?.id == "am-exact")
        #expect(catalog.playbook(for: "alertmanager.instanceflapping")?.id == "am-instance")
        #expect(catalog.playbook(for: "alertmanager.higherrorrate")?.id == "am")
        #expect(catalog.playbook(for: "grafana.nodedown")?.id == "downs")
        #expect(catalog.playbook(for: "splunk.x")?.id == "catch-all")
        #expect(PlaybookCatalog([playbook("am", "alertmanager.*")]).playbook(for: "splunk.x") == nil)
    }

    @Test func patternsThatTieAreRefused() {
        let problems = PlaybookLoader.crossCheck([playbook("a", "alertmanager.*"), playbook("b", "*.instancedown")])
        #expect(problems.count == 1)
        let problem = problems.first
        #expect(problem?.file == "b.yml")
        #expect(problem?.message.contains("'*.instancedown' ties with 'alertmanager.*' of a.yml") == true)
        #expect(problem?.message.contains("both match 'alertmanager.instancedown'") == true)
    }

    @Test func patternsThatCannotTieAreAccepted() {
        // Disjoint, or of different specificity, or one exact id.
        #expect(PlaybookLoader.crossCheck([playbook("a", "alertmanager.*"), playbook("b", "grafana.*")]) == [])
        #expect(PlaybookLoader.crossCheck([playbook("a", "alertmanager.*"), playbook("b", "alertmanager.instance*")]) == [])
        #expect(PlaybookLoader.crossCheck([playbook("a", "*"), playbook("b", "sentinel.*"), playbook("c", "sentinel.failed_logon")]) == [])
        // The same pattern twice is the duplicate-detection problem, reported once.
        #expect(PlaybookLoader.crossCheck([playbook("a", "splunk.*"), playbook("b", "splunk.*")]).count == 1)
    }

    // MARK: Parsing

    static func parse(_ lines: [String]) -> (playbook: Playbook?, problems: [PlaybookProblem]) {
        PlaybookLoader.parse((["id: p", "title: P"] + lines).joined(separator: "\n") + "\n", file: "p.yml")
    }

    @Test func patternPlaybookWithSubjectFromAndAutoResolveParses() throws {
        let result = Self.parse([
            "detection: \"alertmanager.*\"",  // 3
            "subject_from:",  // 4
            "  ip: labels.client_ip",  // 5
            "  host: labels.pod",  // 6
            "  email: annotations.owner",  // 7
            "auto_resolve: false",  // 8
        ])
        #expect(result.problems == [])
        let playbook = try #require(result.playbook)
        #expect(playbook.detection == "alertmanager.*")
        #expect(playbook.subjectFrom == ["ip": "labels.client_ip", "host": "labels.pod", "email": "annotations.owner"])
        #expect(playbook.autoResolve == false)
        let defaults = try #require(Self.parse(["detection: sentinel.x"]).playbook)
        #expect(defaults.subjectFrom == [:])
        #expect(defaults.autoResolve == true)
    }

    /// (lines after id and title, line the problem names, words it contains)
    static let mistakes: [([String], Int, String)] = [
        (
            ["detection: \"alertmanager.**\""], 3,
            "'detection' must be a detection id such as slack.max_daily_download, a pattern such as alertmanager.*"
        ),
        (["detection: sentinel.x", "auto_resolve: nope"], 4, "'auto_resolve' must be true or false"),
        (["detection: sentinel.x", "auto_resolve: \"false\""], 4, "'auto_resolve' must be true or false"),
        (["detection: sentinel.x", "subject_from: labels.ip"], 4, "'subject_from' must be a mapping of subject fields to engine fields"),
        (
            ["detection: \"*\"", "subject_from: {ip: labels.ip}"], 4,
            "'subject_from' needs the detection of one engine (alertmanager.*, grafana.*, azure.*, sentinel.*, splunk.*, elastic.*, panther.*), not '*'"
        ),
        (["detection: slack.max_daily_download", "subject_from: {ip: labels.ip}"], 4, "not 'slack.max_daily_download'"),
        (
            ["detection: \"alertmanager.*\"", "subject_from:", "  user: labels.user"], 5,
            "unknown subject field 'user' in subject_from (an engine's user name goes to 'account', an email address or UPN to 'email')"
        ),
        (["detection: \"alertmanager.*\"", "subject_from:", "  rule: labels.x"], 5, "unknown subject field 'rule'"),
        (
            ["detection: \"alertmanager.*\"", "subject_from:", "  ip: result.src_ip"], 5,
            "'subject_from.ip': Alertmanager fields start with 'labels.', 'annotations.', not 'result.src_ip'"
        ),
        (["detection: \"alertmanager.*\"", "subject_from:", "  ip: labels."], 5, "Alertmanager fields start with"),
        (["detection: splunk.brute", "subject_from:", "  ip: [result.a, result.b]"], 5, "'subject_from.ip' must be the path of one field"),
        (["detection: splunk.brute", "subject_from:", "  ip: result src"], 5, "'subject_from.ip' must be the path of one field"),
        (["detection: sentinel.x", "subjectfrom: {ip: entities.Ip.address}"], 4, "did you mean 'subject_from'?"),
    ]

    @Test(arguments: mistakes.indices)
    func mistakeIsExplained(_ index: Int) throws {
        let (lines, line, words) = Self.mistakes[index]
        let result = Self.parse(lines)
        #expect(result.playbook == nil)
        let problem = try #require(result.problems.first, "no problem for \(lines)")
        #expect(problem.line == line, "\(problem)")
        #expect(problem.message.contains(words), "\(problem.message)")
    }

    /// The alert keeps what its playbook said about auto-resolve, like its other policy.
    @Test func autoResolveIsKeptWithTheAlert() throws {
        var playbook = Playbook(id: "p", title: "P", detection: "alertmanager.*", severity: .low)
        #expect(AlertPolicy(playbook).engineMayResolve)
        #expect(AlertPolicy(playbook).autoResolve == nil)
        playbook.autoResolve = false
        #expect(!AlertPolicy(playbook).engineMayResolve)
        let stored = try JSONDecoder().decode(AlertPolicy.self, from: Data(#"{"actions":[]}"#.utf8))
        #expect(stored.engineMayResolve)
    }

    @Test func everyEngineTakesSubjectFromOfItsOwnFields() throws {
        let paths = [
            "alertmanager": "labels.client_ip", "grafana": "values.A", "azure": "dimensions.ClientIP", "sentinel": "entities.Ip.address",
            "splunk": "result.src", "elastic": "client.ip", "panther": "alertContext.src",
        ]
        for engine in EngineRegistry.engines {
            let path = try #require(paths[engine.detectionPrefix])
            let result = Self.parse(["detection: \"\(engine.detectionPrefix).*\"", "subject_from: {ip: \(path)}"])
            #expect(result.problems == [], "\(engine.id)")
        }
    }
}
