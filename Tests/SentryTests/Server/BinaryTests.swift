import Foundation
import SentryCore
import SentryStore
import Testing

/// Runs the built `sentry` binary the way an operator does.
@Suite struct ServerBinaryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..").standardized

    static var binary: URL? {
        for folder in [".build/debug", ".build/release"] {
            let url = root.appendingPathComponent(folder).appendingPathComponent("sentry")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let binary = try #require(Self.binary, "build the sentry product first (swift build --build-tests builds it)")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        process.currentDirectoryURL = Self.root
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test func serveStopsWithOneLinePerMissingVariable() throws {
        let result = try run(["serve"])
        #expect(result.status != 0)
        let lines = result.err.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains("SLACK_SIGNING_SECRET is required") == true)
        #expect(lines.last?.contains("SLACK_BOT_TOKEN is required") == true)
    }

    @Test func serveRefusesPostgresClearly() throws {
        let result = try run(["serve"], environment: [
            "SLACK_SIGNING_SECRET": "x-signing", "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_ALERT_CHANNEL": "C0X",
            "SENTRY_DATABASE_URL": "postgres://sentry@db/sentry",
        ])
        #expect(result.status != 0)
        #expect(result.err.contains("PostgreSQL is not supported by this build yet"))
    }

    @Test func lintShipsCleanAndReportsFileAndLine() throws {
        let clean = try run(["playbooks", "lint", "Playbooks"])
        #expect(clean.status == 0)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "id: broken\ntitle: Broken\ndetection: x.y\nseverity: severe\n".write(to: folder.appendingPathComponent("broken.yml"), atomically: true, encoding: .utf8)
        let broken = try run(["playbooks", "lint", folder.path])
        #expect(broken.status == 1)
        #expect(broken.out.contains("broken.yml:4: 'severity' must be one of low, medium, high, critical"))
    }

    @Test func simulatePrintsTheMessageWithoutNetwork() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("detection-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try #"{"id":"e1","detection":"slack.max_daily_download","subject":{"slack_user_id":"U024BE7LH"},"summary":"212 files today"}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let result = try run(["simulate", file.path])
        #expect(result.status == 0)
        #expect(result.out.contains("playbook slack-max-daily-download"))
        #expect(result.out.contains("\"action_id\" : \"block_user\""))
        let bad = try run(["simulate", "/nonexistent.json"])
        #expect(bad.status != 0)
    }

    @Test func simulateOfAFailoverToCellularPrintsTheApprovedOnlyRules() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sim-lte-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
            id: uplinks
            title: Uplinks
            detection: meraki.public_ip_change
            actions:
              approved_only: {approvals: 0, auto: true, debounce: 45s, approved: {cidrs: [10.20.0.0/24], groups: [Tills]}}
            """.write(to: folder.appendingPathComponent("uplinks.yml"), atomically: true, encoding: .utf8)
        let file = folder.appendingPathComponent("failover.json")
        try #"{"id":"f1","detection":"meraki.public_ip_change","subject":{"meraki_network_id":"N_1","meraki_serial":"Q2XX-AAAA-0001"},"evidence":{"change":"uplink_failover","interface":"cellular"}}"#
            .write(to: file, atomically: true, encoding: .utf8)
        let result = try run(["simulate", file.path, "--playbooks", folder.path])
        #expect(result.status == 0)
        #expect(result.out.contains("\"action_id\" : \"approved_only\""))
        #expect(result.out.contains("approved-only auto: true → effects:") && result.out.contains("execute containment C-"))
        #expect(result.out.contains("cellular failover rules it would write on N_1"))
        #expect(result.out.contains("1. allow 10.20.0.0/24 → any destination"))
        #expect(result.out.contains("2. allow group:Tills → any destination"))
        #expect(result.out.contains("3. deny any source → any destination"))
        #expect(result.out.contains("active for 45s"))
    }

    @Test func auditVerifyAndExportOnARealDatabase() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let missing = try run(["audit", "verify"], environment: ["SENTRY_DATABASE_URL": "sqlite:\(path)"])
        #expect(missing.status != 0)
        #expect(missing.err.contains("no database"))

        let store = try SQLiteAlertStore(path: path)
        let playbook = Playbook(id: "p", title: "P", detection: "x.y", severity: .low)
        for index in 1...3 {
            let detection = Detection(id: "e\(index)", detection: "x.y", subject: Subject(ip: "192.0.2.\(index)"))
            _ = try await store.ingest(detection, playbook: playbook, channel: "C0X", newAlertID: "A-0000000\(index)", now: Date())
        }
        let intact = try run(["audit", "verify"], environment: ["SENTRY_DATABASE_URL": "sqlite:\(path)"])
        #expect(intact.status == 0)
        #expect(intact.out.contains("audit chain intact: 3 entries"))
        let export = try run(["audit", "export"], environment: ["SENTRY_DATABASE_URL": "sqlite:\(path)"])
        let lines = export.out.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { JSONValue.parse(Array($0.utf8))?["hash"]?.stringValue?.count == 64 })

        try await store.unsafeExecute("UPDATE audit SET detail = 'nothing happened' WHERE seq = 2")
        let changed = try run(["audit", "verify"], environment: ["SENTRY_DATABASE_URL": "sqlite:\(path)"])
        #expect(changed.status == 1)
        #expect(changed.out.contains("broken at entry 2"))
    }

    @Test func playbookTestsPassAndAFailingCaseFails() throws {
        let shipped = try run(["playbooks", "test", "Playbooks"])
        #expect(shipped.status == 0)
        #expect(shipped.out.contains("playbook tests passed"))
        #expect(!shipped.out.contains("FAIL"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pbtest-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
            id: logins
            title: Logins
            detection: slack.failed_logins_by_ip
            rule: {threshold: 3, window: 10m}
            tests:
              - name: wrongly expects nothing
                events:
                  - {action: user_login_failed, ip: 203.0.113.7, at: "2026-11-22T09:00:00Z", repeat: 4, every: 1m}
                expect: 0
              - name: no expectation
                events: []
            """.write(to: folder.appendingPathComponent("logins.yml"), atomically: true, encoding: .utf8)
        let failing = try run(["playbooks", "test", folder.path])
        #expect(failing.status == 1)
        #expect(failing.out.contains("FAIL") && failing.out.contains("expected 0 detections, got 1"))
        #expect(failing.out.contains("needs `expect:`"))
    }

    @Test func replayReadsEachSource() throws {
        let samples = DetectReplayTests.shared.appendingPathComponent("specs")
        let syslog = FileManager.default.temporaryDirectory.appendingPathComponent("mx-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: syslog) }
        let text = try String(contentsOf: samples.appendingPathComponent("meraki/samples/mx-syslog.examples.txt"), encoding: .utf8)
        try text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n").write(to: syslog, atomically: true, encoding: .utf8)
        let fromSyslog = try run(["detect", "replay", syslog.path, "--source", "syslog"])
        #expect(fromSyslog.status == 0)
        #expect(fromSyslog.out.split(separator: "\n").count == 2)
        #expect(fromSyslog.out.contains("failed over to cellular"))

        let audit = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: audit) }
        let lines = (0..<25).map { #"{"id":"r\#($0)","date_create":\#(1_795_000_000 + $0),"action":"user_login_failed","context":{"ip_address":"203.0.113.9"}}"# }
        try (lines + [lines[0], "garbage"]).joined(separator: "\n").write(to: audit, atomically: true, encoding: .utf8)
        let fromAudit = try run(["detect", "replay", audit.path])
        #expect(fromAudit.status == 0)
        #expect(fromAudit.out.split(separator: "\n").count == 1)
        #expect(fromAudit.err.contains("25 events, 1 duplicates, 1 malformed"))
        let bad = try run(["detect", "replay", audit.path, "--source", "carrier-pigeon"])
        #expect(bad.status != 0)
    }
}
