/// One fuzz target: a name for the command line and the checks one input goes through.
///
/// `run` must hold for every input; a broken property calls `FuzzCheck.fail`, which traps so that
/// libFuzzer records the input as a crash.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable ([UInt8]) -> Void

    static let all: [FuzzTarget] = [.verify, .json, .interaction, .webhook, .syslog, .audit, .playbook]

    static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }
}

/// A property that failed, with what was expected; traps, as a crash is what libFuzzer saves.
enum FuzzCheck {
    static func expect(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
        if !condition { fatalError("property failed: \(message())", file: file, line: line) }
    }
}
