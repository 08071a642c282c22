import Foundation

extension String {
    /// `trimmingCharacters(in: .whitespacesAndNewlines)`, without Foundation's bridge through NSString when both
    /// ends are ASCII that is not white space, as nearly every field of a detection is (the bridge cost a webhook
    /// about a tenth of its decode). Anything else goes to Foundation, so the answer is always the same.
    public var trimmedOfWhitespace: String {
        guard let first = unicodeScalars.first, let last = unicodeScalars.last else { return self }
        if Self.isPlainEnd(first) && Self.isPlainEnd(last) { return self }
        return trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func isPlainEnd(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x80 && scalar.value != 0x20 && !(0x09...0x0D).contains(scalar.value)
    }
}
