/// The target of this fuzzing process, set once in `main` before libFuzzer starts calling back.
enum FuzzSession {
    // Written once before the driver starts, then only read from libFuzzer's one calling thread.
    nonisolated(unsafe) static var target: FuzzTarget?
}
