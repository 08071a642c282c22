/// One fuzz target: a name for the command line and the checks one input goes through.
///
/// `run` must hold for every input; a broken property calls `FuzzCheck.fail`, which traps so that
/// libFuzzer records the input as a crash.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable ([UInt8]) -> Void

    static let all: [FuzzTarget] = [.verify, .json, .interaction, .webhook, .syslog, .audit, .playbook] + intake

    static func named(_ name: String) -> FuzzTarget? {
        all.first { $0.name == name }
    }
}
