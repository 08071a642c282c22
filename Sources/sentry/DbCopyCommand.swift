import ArgumentParser
import Foundation
import Logging
import SentryPostgres
import SentryServer
import SentryStore

struct Db: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "db", abstract: "The database.", subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a store (SQLite → PostgreSQL, or back) with its audit chain, in one transaction on the target.",
            discussion: """
                Both stores are migrated to this binary's schema first. The target must be empty unless --replace-target \
                is given. Stop every `sentry serve` on the source first: what it writes after the copy has read the \
                source is not copied. A password for a postgres:// URL without one comes from SENTRY_DATABASE_PASSWORD_FILE.
                """)

        @Option(help: "The store to read: sqlite:PATH (an existing file) or postgres://…") var from: String
        @Option(help: "The store to write: sqlite:PATH or postgres://…") var to: String
        @Flag(help: "Delete every row the target holds before copying (without it, a target with any row is refused).")
        var replaceTarget = false

        func run() async throws {
            let passwordFile = ProcessInfo.processInfo.environment["SENTRY_DATABASE_PASSWORD_FILE"].flatMap { $0.isEmpty ? nil : $0 }
            let source = Self.location(from, option: "--from", passwordFile: passwordFile)
            let target = Self.location(to, option: "--to", passwordFile: passwordFile)
            if source.same(as: target) { fail(["db copy: --from and --to name the same database (\(source.name))"]) }
            if case .sqlite(let path) = source, !FileManager.default.fileExists(atPath: path) {
                fail(["db copy: --from: no SQLite database at \(path)"])
            }
            let from = await Self.open(source, option: "--from")
            let to = await Self.open(target, option: "--to")
            let result: (counts: [StoreSnapshot.Table: Int], verdict: AuditChain.Verdict)
            do {
                result = try await StoreCopy.run(from: from, to: to, replacing: replaceTarget)
            } catch {
                fail(["db copy: nothing was copied: \(error)"])
            }
            print("copied \(source.name) to \(target.name)\(replaceTarget ? " (replacing what it held)" : "")")
            for table in StoreSnapshot.Table.allCases {
                print("  \(table.label): \(result.counts[table] ?? 0)")
            }
            print("target: \(result.verdict)")
            if case .broken = result.verdict { throw ExitCode(1) }
        }

        /// Where one side of the copy lives, parsed; one line and exit 1 when it cannot be read.
        enum Side {
            case sqlite(String)
            case postgres(PostgresSettings)

            var name: String {
                switch self {
                case .sqlite(let path): "sqlite:\(path)"
                case .postgres(let settings): settings.redacted
                }
            }

            func same(as other: Side) -> Bool {
                switch (self, other) {
                case (.sqlite(let a), .sqlite(let b)):
                    URL(fileURLWithPath: a).standardizedFileURL.path == URL(fileURLWithPath: b).standardizedFileURL.path
                case (.postgres(let a), .postgres(let b)):
                    a.host == b.host && a.port == b.port && a.database == b.database && a.schema == b.schema
                default: false
                }
            }
        }

        static func location(_ raw: String, option: String, passwordFile: String?) -> Side {
            // The parsers name the variable `serve` reads; here the option is what was mistyped.
            func problem(_ line: String) -> Never {
                fail(["db copy: " + line.replacingOccurrences(of: "SENTRY_DATABASE_URL", with: option)])
            }
            guard !raw.trimmingCharacters(in: .whitespaces).isEmpty else { problem("\(option) must be sqlite:PATH or postgres://…") }
            switch DatabaseLocation.parse(raw) {
            case .failure(let problems): problem(problems.lines.first ?? "\(option) must be sqlite:PATH or postgres://…")
            case .success(.sqlite(let path)): return .sqlite(path)
            case .success(.postgres(let url)):
                switch PostgresSettings.parse(url: url) {
                case .failure(let failure): problem(failure.line)
                case .success(let settings) where settings.password == nil && passwordFile != nil:
                    switch PostgresSettings.parse(url: url, passwordFile: passwordFile) {
                    case .failure(let failure): problem(failure.line)
                    case .success(let settings): return .postgres(settings)
                    }
                case .success(let settings): return .postgres(settings)
                }
            }
        }

        static func open(_ side: Side, option: String) async -> any StoreSnapshotting & AlertStore {
            switch side {
            case .sqlite(let path):
                do { return try SQLiteAlertStore(path: path) } catch { fail(["db copy: \(option): cannot open \(path): \(error)"]) }
            case .postgres(let settings):
                // What goes wrong is thrown and said in one line; the pool's own warnings would only add lines.
                var logger = Logger(label: "sentry")
                logger.logLevel = .error
                do { return try await PostgresAlertStore.open(settings: settings, logger: logger) } catch {
                    fail(["db copy: \(option): \(settings.redacted): \(error)"])
                }
            }
        }
    }
}
