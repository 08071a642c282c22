/// Short, readable alert ids (`A-7K3M9Q2X`) that responders can type into `/sentry alert`.
public enum AlertID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    private static let letters = Array(alphabet.map { $0.asciiValue! })

    /// Eight letters of 5 bits each from one 64-bit draw (32 letters, so none is likelier than another): one call
    /// to the system's generator, not eight (each is a `getrandom` system call, and every webhook makes an id).
    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        var bits = generator.next()
        var text: [UInt8] = [UInt8(ascii: "A"), UInt8(ascii: "-")]
        for _ in 0..<8 {
            text.append(letters[Int(bits & 31)])
            bits >>= 5
        }
        return String(decoding: text, as: UTF8.self)
    }

    public static func isWellFormed(_ text: String) -> Bool {
        guard text.hasPrefix("A-"), text.count == 10 else { return false }
        return text.dropFirst(2).allSatisfy { alphabet.contains($0) }
    }
}
