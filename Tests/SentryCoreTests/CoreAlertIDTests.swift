import SentryCore
import Testing

@Suite struct CoreAlertIDTests {
    /// Every letter turns up in every position (a letter stuck or never drawn would show here), and ids do not repeat.
    @Test func idsAreWellFormedDistinctAndUseTheWholeAlphabet() {
        let ids = (0..<4_000).map { _ in AlertID.make() }
        #expect(ids.allSatisfy(AlertID.isWellFormed))
        #expect(Set(ids).count == ids.count)
        for position in 2..<10 {
            let letters = Set(ids.map { Array($0)[position] })
            #expect(letters.count == 32, "position \(position) drew \(letters.count) of the 32 letters")
        }
    }
}
