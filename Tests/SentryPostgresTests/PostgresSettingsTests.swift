import Foundation
import Testing

@testable import SentryPostgres

/// `SENTRY_DATABASE_URL=postgres://…` and `SENTRY_DATABASE_PASSWORD_FILE`, read without a server.
@Suite struct PostgresSettingsTests {
    private func parse(_ url: String, passwordFile: String? = nil) -> Result<PostgresSettings, PostgresSettings.Problem> {
        PostgresSettings.parse(url: url, passwordFile: passwordFile)
    }

    @Test func aFullURLGivesEveryPart() throws {
        let settings = try parse("postgres://sentry:s3cr%40t@db.internal:6432/alerts?sslmode=verify-full&pool_max=5").get()
        #expect(settings.host == "db.internal")
        #expect(settings.port == 6432)
        #expect(settings.username == "sentry")
        #expect(settings.password == "s3cr@t")
        #expect(settings.database == "alerts")
        #expect(settings.sslMode == .verifyFull)
        #expect(settings.maximumConnections == 5)
        #expect(settings.redacted == "postgres://sentry@db.internal:6432/alerts?sslmode=verify-full")
        #expect(!settings.redacted.contains("s3cr"))
    }

    @Test func defaultsAreLibpqs() throws {
        let settings = try parse("postgresql://sentry@db/alerts").get()
        #expect(settings.port == 5432)
        #expect(settings.password == nil)
        #expect(settings.sslMode == .prefer)
        #expect(settings.maximumConnections == 20)
    }

    @Test(arguments: [
        ("disable", PostgresSettings.SSLMode.disable), ("prefer", .prefer), ("require", .require), ("verify-ca", .verifyCA),
        ("verify-full", .verifyFull),
    ])
    func everySSLModeIsUnderstood(_ raw: String, _ mode: PostgresSettings.SSLMode) throws {
        let settings = try parse("postgres://sentry@db/alerts?sslmode=\(raw)").get()
        #expect(settings.sslMode == mode)
        _ = try settings.clientConfiguration()
        _ = try settings.connectionConfiguration()
    }

    @Test(arguments: [
        ("postgres://sentry:hunter2hunter2@db/alerts?sslmode=allow", "sslmode must be one of disable, prefer, require, verify-ca, verify-full"),
        ("postgres://sentry:hunter2hunter2@db/", "names no database"),
        ("postgres://:hunter2hunter2@db/alerts", "names no user"),
        ("postgres://sentry:hunter2hunter2@db/alerts?search_path=x", "has the parameter 'search_path'"),
        ("postgres://sentry:hunter2hunter2@db/alerts?pool_max=0", "pool_max must be a whole number"),
        ("postgres://sentry:hunter2hunter2@db/alerts?sslmode=require&sslrootcert=/ca.pem", "sslrootcert needs sslmode=verify-ca or verify-full"),
    ])
    func aBadURLIsOneLineNamingTheVariableAndNeverThePassword(_ url: String, _ expected: String) {
        guard case .failure(let problem) = parse(url) else {
            Issue.record("accepted \(url)")
            return
        }
        #expect(problem.line.hasPrefix("SENTRY_DATABASE_URL "))
        #expect(problem.line.contains(expected))
        #expect(!problem.line.contains("hunter2"))
    }

    @Test func thePasswordComesFromItsFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "correct horse\n".write(to: file, atomically: true, encoding: .utf8)
        let settings = try parse("postgres://sentry@db/alerts", passwordFile: file.path).get()
        #expect(settings.password == "correct horse")

        // Not both, not a missing file, not an empty one.
        guard case .failure(let both) = parse("postgres://sentry:other@db/alerts", passwordFile: file.path) else {
            Issue.record("two passwords")
            return
        }
        #expect(both.line.contains("keep one"))
        guard case .failure(let missing) = parse("postgres://sentry@db/alerts", passwordFile: file.path + ".gone") else {
            Issue.record("no file")
            return
        }
        #expect(missing.line.hasPrefix("SENTRY_DATABASE_PASSWORD_FILE: cannot read"))
        try "\n".write(to: file, atomically: true, encoding: .utf8)
        guard case .failure(let empty) = parse("postgres://sentry@db/alerts", passwordFile: file.path) else {
            Issue.record("empty file")
            return
        }
        #expect(empty.line.contains("is empty"))
    }

    @Test func anUnreadableRootCertificateIsNamed() throws {
        let settings = try parse("postgres://sentry@db/alerts?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem").get()
        #expect(throws: PostgresSettings.Problem(line: "SENTRY_DATABASE_URL sslrootcert: cannot read /nonexistent/ca.pem")) {
            _ = try settings.clientConfiguration()
        }
    }
}
