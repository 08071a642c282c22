import SentryServer
import Testing

@Suite struct RequestIDTests {
    /// Sixteen lower-case hex digits, never the same twice in a process, and spread over every digit position.
    @Test func idsAreSixteenHexDigitsAndDistinct() {
        let ids = (0..<20_000).map { _ in RequestID.make() }
        #expect(ids.allSatisfy { $0.utf8.count == 16 && $0.utf8.allSatisfy { "0123456789abcdef".utf8.contains($0) } })
        #expect(Set(ids).count == ids.count)
        for position in 0..<16 {
            let digits = Set(ids.map { Array($0.utf8)[position] })
            #expect(digits.count == 16, "position \(position) shows \(digits.count) of the 16 digits")
        }
    }
}
