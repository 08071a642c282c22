/// A property that failed, with what was expected; traps, as a crash is what libFuzzer saves.
enum FuzzCheck {
    static func expect(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
        if !condition { fatalError("property failed: \(message())", file: file, line: line) }
    }
}
