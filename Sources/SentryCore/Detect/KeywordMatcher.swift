import Foundation

/// How `slack.filename_keywords` matches a playbook's keywords against file names.
///
/// By default keywords match whole words: a name is split into tokens at every character that is not a letter or
/// a digit, where a lower-case letter is followed by a capital, before the last capital of an acronym that starts
/// a word (`SSNList`: `SSN`, `List`), and between letters and digits; `secret` then
/// matches `Q3-secret-plan.pdf` and `secret_key.txt` but not `secretary-notes.docx`. A keyword of several words
/// matches them in sequence, with any separator or none (`private key`: `private_key`, `PrivateKey`,
/// `privatekey`, not `private keynote`). Names and keywords are compared after Unicode compatibility folding
/// (NFKC: `ﬁ` is `fi`, full-width `ＳＥＣＲＥＴ` is `SECRET`) and ignoring case. A playbook may ask for the old raw
/// substring test (`match: substring`) or regular expressions (`match: regex`, case-insensitive).
public struct KeywordMatcher: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        case words, substring, regex
    }

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    public let mode: Mode
    /// Each keyword's words folded and glued together (`private key` → `privatekey`).
    let glued: [String]
    let substrings: [String]
    let regexes: [NSRegularExpressionBox]

    public init(keywords: [String], mode: Mode = .words) throws(Invalid) {
        self.mode = mode
        switch mode {
        case .words:
            glued = try keywords.map { keyword throws(Invalid) in
                let words = Self.tokens(keyword)
                guard !words.isEmpty else { throw Invalid(description: "keyword '\(keyword)' has no letters or digits to match") }
                return words.joined()
            }
            substrings = []
            regexes = []
        case .substring:
            glued = []
            substrings = keywords.map(Self.fold)
            regexes = []
        case .regex:
            glued = []
            substrings = []
            regexes = try keywords.map { pattern throws(Invalid) in
                guard let regex = try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive]) else {
                    throw Invalid(description: "keyword '\(pattern)' is not a valid regular expression")
                }
                return NSRegularExpressionBox(regex)
            }
        }
    }

    /// Whether any keyword matches the file name.
    public func matches(_ name: String) -> Bool {
        switch mode {
        case .words:
            let tokens = Self.tokens(name)
            return glued.contains { Self.runs(tokens, spell: $0) }
        case .substring:
            let folded = Self.fold(name)
            return substrings.contains { folded.contains($0) }
        case .regex:
            let folded = name.precomposedStringWithCompatibilityMapping
            let range = NSRange(folded.startIndex..., in: folded)
            return regexes.contains { $0.regex.firstMatch(in: folded, range: range) != nil }
        }
    }

    /// Compatibility-folded and lower-cased.
    static func fold(_ text: String) -> String {
        text.precomposedStringWithCompatibilityMapping.lowercased()
    }

    /// The folded tokens of a name: split at non-alphanumerics, at lower→upper changes and at letter↔digit changes.
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var previous: Character?
        let characters = Array(text.precomposedStringWithCompatibilityMapping)
        for (index, character) in characters.enumerated() {
            let isLetter = character.isLetter
            let isDigit = character.isNumber
            guard isLetter || isDigit else {
                if !current.isEmpty { tokens.append(current.lowercased()) }
                current = ""
                previous = nil
                continue
            }
            if let previous, !current.isEmpty {
                let caseChange = previous.isLowercase && character.isUppercase
                // The last capital of an acronym starts the next word: `SSNList` is `SSN` `List`.
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                let acronymEnd = previous.isUppercase && character.isUppercase && (next?.isLowercase ?? false)
                let kindChange = previous.isNumber != isDigit
                if caseChange || acronymEnd || kindChange {
                    tokens.append(current.lowercased())
                    current = ""
                }
            }
            current.append(character)
            previous = character
        }
        if !current.isEmpty { tokens.append(current.lowercased()) }
        return tokens
    }

    /// Whether consecutive tokens, glued, spell `word` exactly.
    static func runs(_ tokens: [String], spell word: String) -> Bool {
        for start in tokens.indices {
            var rest = Substring(word)
            var index = start
            while index < tokens.count, rest.hasPrefix(tokens[index]) {
                rest = rest.dropFirst(tokens[index].count)
                if rest.isEmpty { return true }
                index += 1
            }
        }
        return false
    }
}

/// `NSRegularExpression` is immutable and safe to share; this box says so to the compiler.
struct NSRegularExpressionBox: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ regex: NSRegularExpression) { self.regex = regex }
}
