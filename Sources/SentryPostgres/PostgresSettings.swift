import Foundation
import PostgresNIO

/// How to reach PostgreSQL, read from `SENTRY_DATABASE_URL=postgres://user:pass@host:port/db?sslmode=…` and,
/// for the password, `SENTRY_DATABASE_PASSWORD_FILE`. Problems name the variable and never echo the password.
public struct PostgresSettings: Sendable {
    /// libpq's `sslmode` values that mean something to a client without client certificates.
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without checking its certificate (libpq's default).
        case prefer
        /// TLS or no connection; the certificate is not checked.
        case require
        /// TLS with a certificate signed by a trusted authority (`sslrootcert`, else the system's), any host name.
        case verifyCA = "verify-ca"
        /// TLS with a trusted certificate for the host name in the URL.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// A PEM file of the authorities `verify-ca` and `verify-full` trust (`sslrootcert=`).
    public var rootCertificate: String?
    /// Connections the pool may open (`pool_max=`, default 20).
    public var maximumConnections: Int = 20
    /// The schema the tables live in, instead of the user's default (the tests give each case its own).
    public var schema: String?

    public init(host: String, port: Int = 5432, username: String, password: String?, database: String, sslMode: SSLMode = .prefer) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.sslMode = sslMode
    }

    /// A problem with the settings, one line naming the variable.
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public var line: String
        public var description: String { line }
    }

    /// Reads a `postgres://` (or `postgresql://`) URL; `passwordFile` holds the password instead of the URL.
    public static func parse(url raw: String, passwordFile: String? = nil) -> Result<PostgresSettings, Problem> {
        func problem(_ text: String) -> Result<PostgresSettings, Problem> { .failure(Problem(line: "SENTRY_DATABASE_URL \(text)")) }
        guard raw.hasPrefix("postgres://") || raw.hasPrefix("postgresql://"), let components = URLComponents(string: raw) else {
            return problem("must look like postgres://user:password@host:5432/database?sslmode=require")
        }
        guard let host = components.host, !host.isEmpty else { return problem("names no host (postgres://user@host:5432/database)") }
        guard let user = components.user, !user.isEmpty else {
            return problem("names no user (postgres://user@\(host)/database)")
        }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let database = path
        guard !database.isEmpty, !database.contains("/") else {
            return problem("names no database (postgres://\(user)@\(host)/database)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { return problem("has port \(port), which is not 1…65535") }
        var settings = PostgresSettings(
            host: host, port: port, username: user, password: components.password, database: database)
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    return problem("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(value.prefix(20))'")
                }
                settings.sslMode = mode
            case "sslrootcert":
                settings.rootCertificate = value
            case "pool_max":
                guard let count = Int(value), (1...1_000).contains(count) else { return problem("pool_max must be a whole number from 1 to 1000") }
                settings.maximumConnections = count
            default:
                return problem("has the parameter '\(item.name.prefix(30))'; known are sslmode, sslrootcert and pool_max")
            }
        }
        if settings.rootCertificate != nil, ![.verifyCA, .verifyFull].contains(settings.sslMode) {
            return problem("sslrootcert needs sslmode=verify-ca or verify-full")
        }
        if let passwordFile {
            guard settings.password == nil else {
                return .failure(Problem(line: "SENTRY_DATABASE_PASSWORD_FILE is set but SENTRY_DATABASE_URL has a password too: keep one"))
            }
            guard let data = FileManager.default.contents(atPath: passwordFile) else {
                return .failure(Problem(line: "SENTRY_DATABASE_PASSWORD_FILE: cannot read \(passwordFile)"))
            }
            // One line, as Kubernetes Secrets and `echo` write it.
            let password = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines)
            guard !password.isEmpty else { return .failure(Problem(line: "SENTRY_DATABASE_PASSWORD_FILE: \(passwordFile) is empty")) }
            settings.password = password
        }
        return .success(settings)
    }

    /// The same server, another database.
    public func database(_ name: String) -> PostgresSettings {
        var copy = self
        copy.database = name
        return copy
    }

    /// The same database, another schema (which must exist).
    public func schema(_ name: String) -> PostgresSettings {
        var copy = self
        copy.schema = name
        return copy
    }

    /// What every session of ours sets at start.
    var startupParameters: [(String, String)] {
        [("application_name", "sentry")] + (schema.map { [("search_path", $0)] } ?? [])
    }

    /// Where it connects, without the password: for logs and errors.
    public var redacted: String { "postgres://\(username)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)" }

    /// The pool's configuration.
    public func clientConfiguration() throws -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: try tls())
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// One connection's configuration (migrations, which must fail at once when the server cannot be reached).
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch try tlsSettings() {
        case nil: tls = .disable
        case (let settings, let enforced)?:
            let context = try NIOSSLContext(configuration: settings)
            tls = enforced ? .require(context) : .prefer(context)
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    func tls() throws -> PostgresClient.Configuration.TLS {
        switch try tlsSettings() {
        case nil: .disable
        case (let settings, let enforced)?: enforced ? .require(settings) : .prefer(settings)
        }
    }

    /// TLS as `sslmode` asks for it, and whether a server without TLS is refused; nil for plain TCP.
    func tlsSettings() throws -> (TLSConfiguration, enforced: Bool)? {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable:
            return nil
        case .prefer, .require:
            // As libpq: encrypted, but anyone's certificate is accepted.
            tls.certificateVerification = .none
            return (tls, sslMode == .require)
        case .verifyCA, .verifyFull:
            tls.certificateVerification = sslMode == .verifyFull ? .fullVerification : .noHostnameVerification
            if let rootCertificate {
                guard FileManager.default.isReadableFile(atPath: rootCertificate) else {
                    throw Problem(line: "SENTRY_DATABASE_URL sslrootcert: cannot read \(rootCertificate)")
                }
                tls.trustRoots = .file(rootCertificate)
            }
            return (tls, true)
        }
    }
}
