import Foundation

/// Runs files (or every file of folders) through a target, for the ordinary build.
enum CorpusReplay {
    struct Missing: Error, CustomStringConvertible {
        var path: String
        var description: String { "no such file or folder: \(path)" }
    }

    /// The file being run, for the trap handler: a C string, as the handler may only call write(2).
    nonisolated(unsafe) static var current: UnsafeMutablePointer<CChar>?

    /// The number of inputs run; a failed property traps before this returns, naming the file.
    static func run(_ target: FuzzTarget, paths: [String]) throws -> Int {
        installTrapHandler()
        let fm = FileManager.default
        var count = 0
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { throw Missing(path: path) }
            let files =
                isDirectory.boolValue
                ? try fm.contentsOfDirectory(atPath: path).sorted().map { (path as NSString).appendingPathComponent($0) }
                : [path]
            for file in files {
                guard let data = fm.contents(atPath: file) else { throw Missing(path: file) }
                free(current)
                current = strdup("\(target.name): crashed on \(file)\n")
                target.run(Array(data))
                count += 1
            }
        }
        return count
    }

    /// Swift traps raise SIGILL or SIGTRAP: name the input, then die of the same signal.
    private static func installTrapHandler() {
        for signal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT] {
            _ = Foundation.signal(signal) { number in
                if let text = CorpusReplay.current { _ = write(2, text, strlen(text)) }
                _ = Foundation.signal(number, SIG_DFL)
                _ = raise(number)
            }
        }
    }
}
