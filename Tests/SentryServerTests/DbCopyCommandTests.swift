import Foundation
import SentryPostgres
import SentryStore
import SentryTestSupport
import Testing

/// `sentry db copy` as an operator runs it: counts per kind on standard output, the target's chain checked,
/// one line and exit 1 for anything it will not do.
@Suite struct DbCopyCommandTests {
    let binary = ServerBinaryTests()

    private func populatedFile() async throws -> (path: String, snapshot: StoreSnapshot, folder: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("db-copy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("sentry.db").path
        let store = try SQLiteAlertStore(path: path)
        try await StoreCopyFixture.populate(store)
        return (path, try await store.exportSnapshot(), folder)
    }

    private func expectCounts(_ out: String, _ snapshot: StoreSnapshot) {
        for table in StoreSnapshot.Table.allCases {
            #expect(out.contains("  \(table.label): \(snapshot.counts[table] ?? 0)\n"), "\(table.label) in \(out)")
        }
        #expect(out.contains("target: audit chain intact: \(snapshot.audit.count) entries"))
    }

    @Test(.enabled(if: PostgresTestDatabase.included)) func sqliteToPostgresThenRefusedThenReplaced() async throws {
        let (path, snapshot, folder) = try await populatedFile()
        defer { try? FileManager.default.removeItem(at: folder) }
        let settings = try await PostgresTestDatabase.createDatabase()
        let url = settings.redacted

        let copied = try binary.run(["db", "copy", "--from", "sqlite:\(path)", "--to", url])
        #expect(copied.status == 0, "\(copied.err)")
        #expect(copied.out.hasPrefix("copied sqlite:\(path) to \(url)\n"))
        expectCounts(copied.out, snapshot)
        let verify = try binary.run(["audit", "verify"], environment: ["SENTRY_DATABASE_URL": url])
        #expect(verify.status == 0)
        #expect(verify.out.contains("audit chain intact: \(snapshot.audit.count) entries"))
        let store = try await PostgresAlertStore.open(settings: settings, logger: PostgresTestDatabase.logger)
        #expect(try await store.exportSnapshot() == snapshot)

        let refused = try binary.run(["db", "copy", "--from", "sqlite:\(path)", "--to", url])
        #expect(refused.status == 1)
        #expect(refused.out.isEmpty)
        #expect(refused.err.split(separator: "\n").count == 1, "\(refused.err)")
        #expect(refused.err.contains("the target is not empty (alerts: \(snapshot.alerts.count), detection ids: \(snapshot.detections.count)"))
        #expect(refused.err.contains("--replace-target"))

        let replaced = try binary.run(["db", "copy", "--from", "sqlite:\(path)", "--to", url, "--replace-target"])
        #expect(replaced.status == 0, "\(replaced.err)")
        #expect(replaced.out.contains("(replacing what it held)"))
        expectCounts(replaced.out, snapshot)
        #expect(try await store.exportSnapshot() == snapshot)

        // And back again, into a new SQLite file.
        let back = folder.appendingPathComponent("back.db").path
        let returned = try binary.run(["db", "copy", "--from", url, "--to", "sqlite:\(back)"])
        #expect(returned.status == 0, "\(returned.err)")
        expectCounts(returned.out, snapshot)
        #expect(try await SQLiteAlertStore(path: back).exportSnapshot() == snapshot)
    }

    @Test func sqliteToSQLiteAndItsRefusals() async throws {
        let (path, snapshot, folder) = try await populatedFile()
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("copy.db").path
        let copied = try binary.run(["db", "copy", "--from", "sqlite:\(path)", "--to", "sqlite:\(copy)"])
        #expect(copied.status == 0, "\(copied.err)")
        expectCounts(copied.out, snapshot)
        #expect(try binary.run(["audit", "verify"], environment: ["SENTRY_DATABASE_URL": "sqlite:\(copy)"]).status == 0)

        let again = try binary.run(["db", "copy", "--from", "sqlite:\(path)", "--to", "sqlite:\(copy)"])
        #expect(again.status == 1)
        #expect(again.err.contains("nothing was copied: the target is not empty"))

        let missing = folder.appendingPathComponent("missing.db").path
        let cases: [([String], String)] = [
            (["--from", "sqlite:\(missing)", "--to", "sqlite:\(copy)"], "sentry: db copy: --from: no SQLite database at \(missing)"),
            (["--from", "mysql://x/y", "--to", "sqlite:\(copy)"], "sentry: db copy: --from must be sqlite:PATH or postgres://…"),
            (["--from", "sqlite:\(path)", "--to", "sqlite:"], "sentry: db copy: --to sqlite: needs a file path"),
            (["--from", "sqlite:\(path)", "--to", "postgres://nobody@/db"], "sentry: db copy: --to names no host"),
            (["--from", "sqlite:\(path)", "--to", "postgres://u@h/db?sslmode=sometimes"], "sentry: db copy: --to sslmode must be one of"),
            (["--from", "sqlite:\(path)", "--to", "sqlite:\(path)"], "sentry: db copy: --from and --to name the same database"),
            (
                ["--from", "sqlite:\(path)", "--to", "sqlite:\(folder.path)/no/such/folder/x.db"],
                "sentry: db copy: --to: cannot open \(folder.path)/no/such/folder/x.db"
            ),
        ]
        for (arguments, line) in cases {
            let result = try binary.run(["db", "copy"] + arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.out.isEmpty, "\(arguments)")
            #expect(result.err.split(separator: "\n").count == 1, "\(arguments): \(result.err)")
            #expect(result.err.hasPrefix(line), "\(arguments): \(result.err)")
        }
        // None of them touched the copy.
        #expect(try await SQLiteAlertStore(path: copy).exportSnapshot() == snapshot)
    }

    @Test func anUnreachableServerIsOneLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("db-copy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("s.db").path
        _ = try SQLiteAlertStore(path: path)
        let result = try binary.run([
            "db", "copy", "--from", "sqlite:\(path)", "--to", "postgres://sentry:secret-pw@127.0.0.1:1/sentry?sslmode=disable",
        ])
        #expect(result.status == 1)
        #expect(result.err.split(separator: "\n").count == 1, "\(result.err)")
        #expect(result.err.hasPrefix("sentry: db copy: --to: postgres://sentry@127.0.0.1:1/sentry?sslmode=disable: PostgreSQL connection failed"))
        #expect(!result.err.contains("secret-pw"))
    }
}
