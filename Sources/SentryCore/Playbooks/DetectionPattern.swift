import Foundation

/// A playbook's `detection:`: an exact detection id, or a pattern where `*` stands for any run of characters
/// (`alertmanager.*`, `*.brute_force`, `*` for every detection).
///
/// The playbook of a detection is the one with its exact id; else the matching pattern with the most literal
/// characters. Two different patterns with as many literal characters that some id matches both would tie, and
/// lint refuses them, so the choice never depends on file names.
public enum DetectionPattern {
    /// The bytes of a detection id: `a-z`, `0-9`, `.`, `_`, `-`.
    @inlinable public static func isIDByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }

    static let star = UInt8(ascii: "*")

    /// An exact id or a pattern: id bytes and `*`, never two stars in a row.
    public static func isValid(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            guard isIDByte(byte) || byte == star else { return false }
            if byte == star, previous == star { return false }
            previous = byte
        }
        return !text.isEmpty && text.utf8.count <= 100
    }

    public static func isPattern(_ text: String) -> Bool { text.utf8.contains(star) }

    /// How specific a pattern is: its literal characters. An exact id beats every pattern whatever this says.
    public static func specificity(_ pattern: String) -> Int { pattern.utf8.count(where: { $0 != star }) }

    /// Whether `id` matches `pattern` (`*` matches any run, also an empty one and one with dots).
    public static func matches(_ pattern: String, _ id: String) -> Bool {
        let p = Array(pattern.utf8)
        let s = Array(id.utf8)
        var i = 0
        var j = 0
        var starAt = -1
        var resumeAt = 0
        while j < s.count {
            if i < p.count, p[i] != star, p[i] == s[j] {
                i += 1
                j += 1
            } else if i < p.count, p[i] == star {
                starAt = i
                resumeAt = j
                i += 1
            } else if starAt >= 0 {
                i = starAt + 1
                resumeAt += 1
                j = resumeAt
            } else {
                return false
            }
        }
        while i < p.count, p[i] == star { i += 1 }
        return i == p.count
    }

    /// An id both patterns match, or nil when none does: a breadth-first walk of the two patterns side by side
    /// (a star may match nothing, or the other side's next literal).
    public static func commonMatch(_ a: String, _ b: String) -> String? {
        let p = Array(a.utf8)
        let q = Array(b.utf8)
        let width = q.count + 1
        var parent = [Int?](repeating: nil, count: (p.count + 1) * width)
        var read = [UInt8?](repeating: nil, count: (p.count + 1) * width)
        var seen = [Bool](repeating: false, count: (p.count + 1) * width)
        var queue = [0]
        seen[0] = true
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            let i = state / width
            let j = state % width
            if i == p.count, j == q.count {
                var bytes: [UInt8] = []
                var at: Int? = state
                while let current = at {
                    if let byte = read[current] { bytes.append(byte) }
                    at = parent[current]
                }
                return String(decoding: bytes.reversed(), as: UTF8.self)
            }
            var next: [(Int, Int, UInt8?)] = []
            let pStar = i < p.count && p[i] == star
            let qStar = j < q.count && q[j] == star
            if pStar { next.append((i + 1, j, nil)) }
            if qStar { next.append((i, j + 1, nil)) }
            if pStar, j < q.count, !qStar { next.append((i, j + 1, q[j])) }
            if qStar, i < p.count, !pStar { next.append((i + 1, j, p[i])) }
            if i < p.count, j < q.count, !pStar, !qStar, p[i] == q[j] { next.append((i + 1, j + 1, p[i])) }
            for (ni, nj, byte) in next {
                let target = ni * width + nj
                guard !seen[target] else { continue }
                seen[target] = true
                parent[target] = state
                read[target] = byte
                queue.append(target)
            }
        }
        return nil
    }

    /// An id the pattern matches, for sample detections of `sentry playbooks test`: each star becomes `test`.
    public static func example(_ pattern: String) -> String {
        pattern == Playbook.catchAll ? "custom.test" : pattern.replacingOccurrences(of: "*", with: "test")
    }
}
