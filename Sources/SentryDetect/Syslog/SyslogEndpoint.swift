import Foundation

/// Where the syslog listener binds: the `host:port` of `SENTRY_SYSLOG_UDP` / `SENTRY_SYSLOG_TCP`.
public struct SyslogEndpoint: Equatable, Sendable, CustomStringConvertible {
    public var host: String
    /// 0 asks the system for a free port (tests); the bound one is in `SyslogListener.boundPorts()`.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `0.0.0.0:514`, `127.0.0.1:0`, `[::]:6514`, `localhost:514`.
    public init(parsing text: String) throws(SyslogEndpointError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.lastIndex(of: ":") else { throw SyslogEndpointError(text: text) }
        var host = trimmed[..<colon]
        let portText = trimmed[trimmed.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = host.dropFirst().dropLast()
        } else if host.contains(":") {
            throw SyslogEndpointError(text: text)  // IPv6 needs brackets, or the port is ambiguous
        }
        guard !host.isEmpty, !host.contains(where: \.isWhitespace), (1...5).contains(portText.count),
            portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = Int(portText), port <= 65_535
        else { throw SyslogEndpointError(text: text) }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A `host:port` setting that is not one.
public struct SyslogEndpointError: Error, Equatable, Sendable, CustomStringConvertible {
    public var text: String

    public init(text: String) { self.text = text }

    public var description: String { "expected host:port (for example 0.0.0.0:514), got \"\(text)\"" }
}
