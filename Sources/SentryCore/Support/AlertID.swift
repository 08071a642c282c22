/// Short, readable alert ids (`A-7K3M9Q2X`) that responders can type into `/sentry alert`.
public enum AlertID {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    public static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return "A-" + String((0..<8).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    public static func isWellFormed(_ text: String) -> Bool {
        guard text.hasPrefix("A-"), text.count == 10 else { return false }
        return text.dropFirst(2).allSatisfy { alphabet.contains($0) }
    }
}
