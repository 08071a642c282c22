/// Why `sentry serve` cannot start: one line per thing to fix, naming the setting or the file.
public struct StartupError: Error, CustomStringConvertible {
    public let lines: [String]

    public init(_ lines: [String]) {
        self.lines = lines
    }

    public var description: String { lines.joined(separator: "\n") }
}
