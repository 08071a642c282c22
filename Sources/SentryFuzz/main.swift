import Foundation

#if FUZZING
    import CLibFuzzer
#endif

// `SentryFuzz <target> [libFuzzer flags and corpus folders]` in the fuzz build (-DFUZZING, -sanitize=fuzzer);
// `SentryFuzz <target|all> <file or folder>...` in the ordinary build, which replays inputs through the same
// checks (a corpus replayer, and a way to rerun a crash file without the sanitizer toolchain).
var arguments = CommandLine.arguments
let usage = "usage: SentryFuzz <\(FuzzTarget.all.map(\.name).joined(separator: "|"))> ..."

// The target comes first; libFuzzer's own children (-fork, -merge) rerun argv without it, so it is also
// left in the environment for them.
let environmentKey = "SENTRY_FUZZ_TARGET"
var name = ProcessInfo.processInfo.environment[environmentKey]
if arguments.count > 1, arguments[1] == "all" || FuzzTarget.named(arguments[1]) != nil {
    name = arguments.remove(at: 1)
}

#if FUZZING
    guard let name, let target = FuzzTarget.named(name) else {
        FileHandle.standardError.write(Data((usage + " (or \(environmentKey)=<target>)\n").utf8))
        exit(2)
    }
    setenv(environmentKey, name, 1)
    FuzzSession.target = target
    var argc = Int32(arguments.count)
    // libFuzzer keeps these for the whole run and never frees them.
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = {
        let pointers = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: arguments.count + 1)
        for (index, argument) in arguments.enumerated() { pointers[index] = strdup(argument) }
        pointers[arguments.count] = nil
        return pointers
    }()
    exit(
        LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzSession.target?.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
            return 0
        })
#else
    guard let name, arguments.count > 1 else {
        FileHandle.standardError.write(Data((usage + " <file or folder>...\n").utf8))
        exit(2)
    }
    let targets = name == "all" ? FuzzTarget.all : FuzzTarget.named(name).map { [$0] } ?? []
    guard !targets.isEmpty else {
        FileHandle.standardError.write(Data((usage + "\n").utf8))
        exit(2)
    }
    var failed = false
    for target in targets {
        // With `all`, each path is a root holding one folder per target.
        let paths = name == "all" ? arguments.dropFirst().map { ($0 as NSString).appendingPathComponent(target.name) } : Array(arguments.dropFirst())
        do {
            let count = try CorpusReplay.run(target, paths: paths)
            print("\(target.name): \(count) inputs, all checks held")
        } catch {
            FileHandle.standardError.write(Data("\(target.name): \(error)\n".utf8))
            failed = true
        }
    }
    exit(failed ? 1 : 0)
#endif
