import Foundation
import SentryTestSupport
import Testing

@testable import SentryCore

/// Keywords match words of a file name, not substrings.
@Suite struct DetectKeywordTests {
    func words(_ keywords: [String]) throws -> KeywordMatcher { try KeywordMatcher(keywords: keywords) }

    @Test(arguments: [
        ("secret", "Q3-secret-plan.pdf", true), ("secret", "secret_key.txt", true), ("secret", "TopSecretPlan.docx", true),
        ("secret", "SECRET.txt", true), ("secret", "secret2026.zip", true), ("secret", "secretary-notes.docx", false),
        ("secret", "secrets.txt", false), ("ssn", "classnotes.pdf", false), ("ssn", "employee-SSN-list.csv", true),
        ("ssn", "ssn123.txt", true), ("private key", "private_key.pem", true), ("private key", "private-key.pem", true),
        ("private key", "privatekey.pem", true), ("private key", "PrivateKey.pem", true), ("private key", "private key.txt", true),
        ("private key", "private keynote.key", false), ("private key", "key-private.pem", false),
        ("confidential", "ＣＯＮＦＩＤＥＮＴＩＡＬ.pdf", true), ("confidential", "Conﬁdential.pdf", true),
        ("credentials", "customer credentials.txt", true), ("ssn", "SSNList.csv", true), ("confidential", "HRConfidential.pdf", true),
        ("secret", "XMLSecretKey.pem", true), ("q3", "Q3-secret-plan.pdf", true), ("plan", "Q3-secret-plan.pdf", true),
    ])
    func wholeWordsMatch(keyword: String, name: String, expected: Bool) throws {
        #expect(try words([keyword]).matches(name) == expected, "\(keyword) in \(name)")
    }

    @Test func tokensSplitAtSeparatorsCaseChangesAndDigits() {
        #expect(KeywordMatcher.tokens("Q3-secret_planV2.final PDF") == ["q", "3", "secret", "plan", "v", "2", "final", "pdf"])
        #expect(KeywordMatcher.tokens("ＡＢＣ-def") == ["abc", "def"])
        #expect(KeywordMatcher.tokens("---") == [])
        #expect(KeywordMatcher.tokens("SSNList") == ["ssn", "list"])
        #expect(KeywordMatcher.tokens("HRConfidentialQ3") == ["hr", "confidential", "q", "3"])
    }

    @Test func substringAndRegexAreThereWhenAPlaybookAsks() throws {
        let substring = try KeywordMatcher(keywords: ["ssn"], mode: .substring)
        #expect(substring.matches("classnotes.pdf"))
        let regex = try KeywordMatcher(keywords: [#"^q[1-4]-"#], mode: .regex)
        #expect(regex.matches("Q3-secret-plan.pdf"))
        #expect(!regex.matches("plan-q3.pdf"))
        #expect(throws: KeywordMatcher.Invalid.self) { try KeywordMatcher(keywords: ["(unclosed"], mode: .regex) }
        #expect(throws: KeywordMatcher.Invalid.self) { try KeywordMatcher(keywords: ["--"]) }
    }

    @Test func theRuleUsesWordsUnlessThePlaybookSaysOtherwise() throws {
        func fired(_ rule: JSONValue, _ name: String) throws -> Int {
            let engine = try RuleEngine(playbooks: [RuleFixtures.playbook("slack.filename_keywords", rule: rule)])
            var state = RuleEngine.State()
            let events = (0..<4).map { RuleFixtures.event("file_downloaded", at: Double($0) * 60, file: name) }
            return engine.process(events, state: &state).detections.count
        }
        #expect(try fired(["threshold": 3, "keywords": ["secret"]], "secretary-notes.docx") == 0)
        #expect(try fired(["threshold": 3, "keywords": ["secret"]], "Q3-secret-plan.pdf") == 1)
        #expect(try fired(["threshold": 3, "keywords": ["secret"], "match": "substring"], "secretary-notes.docx") == 1)
        #expect(try fired(["threshold": 3, "keywords": [#"secret\w+"#], "match": "regex"], "secretary-notes.docx") == 1)
        #expect(throws: RuleEngine.Problem.self) { try fired(["keywords": ["secret"], "match": "fuzzy"], "x") }
        #expect(throws: RuleEngine.Problem.self) { try fired(["keywords": ["(bad"], "match": "regex"], "x") }
    }

    @Test func lintReportsABadMatchOrPatternWithItsLine() {
        let text = """
            id: keywords
            title: Keywords
            detection: slack.filename_keywords
            severity: medium
            rule:
              keywords: ["(unclosed"]
              match: regex
            """
        let parsed = PlaybookLoader.parse(text, file: "keywords.yml")
        #expect(parsed.playbook == nil)
        #expect(parsed.problems.map(\.description).contains { $0.hasPrefix("keywords.yml:6:") && $0.contains("not a valid regular expression") })
    }
}
