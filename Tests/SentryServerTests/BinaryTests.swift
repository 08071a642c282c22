import Foundation
import SentryCore
import SentryEngine
import SentryStore
import SentryTestSupport
import Testing

/// Runs the built `sentry` binary the way an operator does.
@Suite struct ServerBinaryTests {
    static let root = CoreFixtures.repoRoot

    static var binary: URL? {
        for folder in [".build/debug", ".build/release"] {
            let url = root.appendingPathComponent(folder).appendingPathComponent("sentry")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// `via`: a command that runs the binary (`setpriv …`), found in /usr/bin.
    func run(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil, via: [String] = []) throws
        -> (status: Int32, out: String, err: String)
    {
        let binary = try #require(Self.binary, "build the sentry product first (swift build --build-tests builds it)")
        let process = Process()
        if let command = via.first {
            process.executableURL = URL(fileURLWithPath: "/usr/bin").appendingPathComponent(command)
            process.arguments = via.dropFirst() + [binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        process.currentDirectoryURL = directory ?? Self.root
        let out = Pipe()
        let err = Pipe()
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

    @Test func serveOverSocketModeDoesNotAskForTheSigningSecret() throws {
        // Over Socket Mode no signed HTTP callback arrives: only the bot token is missing here.
        let result = try run(["serve"], environment: ["SLACK_APP_TOKEN": "xapp-1-A0X-1-not-real"])
        #expect(result.status != 0)
        let lines = result.err.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains("SLACK_BOT_TOKEN is required") == true)
        #expect(!result.err.contains("SLACK_SIGNING_SECRET"))
    }

    @Test func serveNamesAnUnreachablePostgresClearlyWithoutItsPassword() throws {
        let port = try freePort()
        let result = try run(
            ["serve"],
            environment: [
                "SLACK_SIGNING_SECRET": "x-signing", "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_ALERT_CHANNEL": "C0X",
                "SENTRY_DATABASE_URL": "postgres://sentry:hunter2hunter2@127.0.0.1:\(port)/sentry?sslmode=disable",
            ])
        #expect(result.status != 0)
        #expect(
            result.err.contains(
                "SENTRY_DATABASE_URL: postgres://sentry@127.0.0.1:\(port)/sentry?sslmode=disable: PostgreSQL connection failed"
            ))
        #expect(!result.err.contains("hunter2"))
    }

    @Test func serveRefusesABadPostgresURLInOneLine() throws {
        let result = try run(
            ["serve"],
            environment: [
                "SLACK_SIGNING_SECRET": "x-signing", "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_ALERT_CHANNEL": "C0X",
                "SENTRY_DATABASE_URL": "postgres://sentry@db/sentry?sslmode=sometimes",
            ])
        #expect(result.status != 0)
        #expect(result.err.split(separator: "\n").count == 1)
        #expect(result.err.contains("SENTRY_DATABASE_URL sslmode must be one of disable, prefer, require, verify-ca, verify-full"))
    }

    @Test func demoOverSocketModePlaysTheIncidentWithARefresh() throws {
        let demo = try run(["demo", "--socket-mode"])
        #expect(demo.status == 0, "\(demo.err)")
        #expect(demo.out.contains("POST /slack/interactivity → 404"))
        #expect(demo.out.contains("said hello, then #1 closed"))
        #expect(demo.out.contains("Thread reply: :eyes: @U0ALICE acknowledged this alert."))
        #expect(demo.out.contains("audit chain intact"))
        #expect(demo.out.contains("POST /hooks/alertmanager → 202"))
        #expect(demo.out.contains("Thread reply: :white_check_mark: Resolved by Alertmanager"))
        #expect(demo.out.contains("app_home_opened → 200"))
        #expect(demo.out.contains("Sentry — what needs you"))
    }

    @Test func manifestTakesEitherAURLOrSocketMode() throws {
        let socket = try run(["manifest", "--socket-mode"])
        #expect(socket.status == 0)
        #expect(JSONValue.parse(Array(socket.out.utf8))?["settings"]?["socket_mode_enabled"] == true)
        let both = try run(["manifest", "--socket-mode", "--url", "https://x.example"])
        #expect(both.status == 1)
        #expect(both.err.split(separator: "\n").count == 1)
    }

    @Test func lintShipsCleanAndReportsFileAndLine() throws {
        let clean = try run(["playbooks", "lint", "Playbooks"])
        #expect(clean.status == 0)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "id: broken\ntitle: Broken\ndetection: x.y\nseverity: severe\n".write(
            to: folder.appendingPathComponent("broken.yml"), atomically: true, encoding: .utf8)
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
        try
            #"{"id":"f1","detection":"meraki.public_ip_change","subject":{"meraki_network_id":"N_1","meraki_serial":"Q2XX-AAAA-0001"},"evidence":{"change":"uplink_failover","interface":"cellular"}}"#
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
            _ = try await store.engine.ingest(detection, playbook: playbook, channel: "C0X", newAlertID: "A-0000000\(index)", now: Date())
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
        let samples = CoreFixtures.shared.appendingPathComponent("specs")
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
        let lines = (0..<25).map {
            #"{"id":"r\#($0)","date_create":\#(1_795_000_000 + $0),"action":"user_login_failed","context":{"ip_address":"203.0.113.9"}}"#
        }
        try (lines + [lines[0], "garbage"]).joined(separator: "\n").write(to: audit, atomically: true, encoding: .utf8)
        let fromAudit = try run(["detect", "replay", audit.path])
        #expect(fromAudit.status == 0)
        #expect(fromAudit.out.split(separator: "\n").count == 1)
        #expect(fromAudit.err.contains("25 events, 1 duplicates, 1 malformed"))
        let bad = try run(["detect", "replay", audit.path, "--source", "carrier-pigeon"])
        #expect(bad.status != 0)
    }

    // MARK: - detect replay: what it read

    static func replayFile(_ name: String, _ bytes: [UInt8]) throws -> URL {
        try ReplayFixtures.temporary(name, bytes)
    }

    static let failedLogins = (0..<25).map {
        #"{"id":"p\#($0)","date_create":\#(1_795_000_000 + $0),"action":"user_login_failed","context":{"ip_address":"203.0.113.9"}}"#
    }

    /// Two polls of one appliance whose wan1 public IP changed in between, as pretty-printed API responses.
    static func merakiPolls(pretty: Bool) throws -> [String] {
        let sample = try Data(
            contentsOf: ReplayFixtures.samples.appendingPathComponent("meraki/samples/getOrganizationApplianceUplinkStatuses.response.json"))
        return try ["123.123.123.1", "123.123.123.99"].enumerated().map { index, ip in
            var devices = try #require(JSONSerialization.jsonObject(with: sample) as? [[String: Any]])
            devices[0]["lastReportedAt"] = "2026-11-22T09:0\(index):00Z"
            var uplinks = try #require(devices[0]["uplinks"] as? [[String: Any]])
            uplinks[0]["publicIp"] = ip
            devices[0]["uplinks"] = uplinks
            let data = try JSONSerialization.data(withJSONObject: devices, options: pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }
    }

    @Test func replayDetectsTheSourceAndReadsSavedResponsesAndGzip() throws {
        let page = try JSONSerialization.data(
            withJSONObject: [
                "ok": true, "entries": Self.failedLogins.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) },
                "response_metadata": ["next_cursor": ""],
            ], options: [.prettyPrinted])
        let pretty = try Self.replayFile("page.json", Array(page))
        let packed = try Self.replayFile("page.json.gz", ReplayFixtures.gzip(Array(page)))
        let jsonl = try Self.replayFile("logins.jsonl.gz", ReplayFixtures.gzip(Array(Self.failedLogins.joined(separator: "\n").utf8)))
        let meraki = try Self.replayFile("uplinks.json", Array(try Self.merakiPolls(pretty: true).joined(separator: "\n").utf8))
        defer { for url in [pretty, packed, jsonl, meraki] { try? FileManager.default.removeItem(at: url) } }

        for url in [pretty, packed, jsonl] {
            let result = try run(["detect", "replay", url.path])
            #expect(result.status == 0, "\(url.lastPathComponent): \(result.err)")
            #expect(result.out.split(separator: "\n").count == 1, "\(url.lastPathComponent)")
            #expect(result.out.contains("slack.failed_logins_by_ip"))
            #expect(result.err.contains("source: slack-audit (detected) — 25 of 25"), "\(result.err)")
            #expect(result.err.contains("detections: slack.failed_logins_by_ip 1"))
        }
        #expect(try run(["detect", "replay", packed.path]).err.contains("gzip, "))
        let uplinks = try run(["detect", "replay", meraki.path])
        #expect(uplinks.status == 0, "\(uplinks.err)")
        #expect(uplinks.out.contains("meraki.public_ip_change") && uplinks.out.contains("123.123.123.99"))
        #expect(uplinks.err.contains("source: meraki-uplinks (detected) — 2 of 2 records are Meraki uplink statuses"), "\(uplinks.err)")
    }

    @Test func replayOfTheWrongSourceSaysWhatTheLinesLookLikeAndFails() throws {
        let polls = try Self.merakiPolls(pretty: false)
        let file = try Self.replayFile("uplinks.jsonl", Array((0..<50).map { polls[$0 % 2] }.joined(separator: "\n").utf8))
        let text = try Self.replayFile("notes.txt", Array("shopping list\neggs\nmilk\n".utf8))
        defer { for url in [file, text] { try? FileManager.default.removeItem(at: url) } }
        let wrong = try run(["detect", "replay", file.path, "--source", "slack-audit"])
        #expect(wrong.status != 0)
        #expect(wrong.out.isEmpty)
        #expect(
            wrong.err.contains("sentry: 0 of 50 lines are Slack audit entries — they look like Meraki uplink statuses; try --source meraki-uplinks"),
            "\(wrong.err)")
        let right = try run(["detect", "replay", file.path, "--source", "meraki-uplinks"])
        #expect(right.status == 0, "\(right.err)")
        let unknown = try run(["detect", "replay", text.path])
        #expect(unknown.status != 0)
        #expect(
            unknown.err.contains("none of the first 3 lines of \(text.path) read as Slack audit entries, Meraki uplink statuses or syslog messages"),
            "\(unknown.err)")
    }

    @Test func replayOfWhatCannotBeReadIsOneSentence() throws {
        let empty = try Self.replayFile("empty.jsonl", [])
        let blank = try Self.replayFile("blank.jsonl", Array("\n  \n".utf8))
        let locked = try Self.replayFile("locked.jsonl", Array(Self.failedLogins.joined(separator: "\n").utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: locked.path)
        defer { for url in [empty, blank, locked] { try? FileManager.default.removeItem(at: url) } }
        let folder = FileManager.default.temporaryDirectory.path
        let cases: [(String, String, [String])] = [
            (folder, "\(folder) is a directory: give one file to replay", []),
            ("/nonexistent/audit.jsonl", "/nonexistent/audit.jsonl does not exist", []),
            (empty.path, "\(empty.path) is empty: there is nothing to replay", []),
            (blank.path, "\(blank.path) holds only blank lines: there is nothing to replay", []),
            // root reads any file: the check runs as nobody then.
            (
                locked.path, "\(locked.path) cannot be read: permission denied",
                getuid() == 0 ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
            ),
        ]
        for (path, sentence, prefix) in cases {
            let result = try run(["detect", "replay", path], via: prefix)
            #expect(result.status != 0, "\(path)")
            let said = result.err.split(separator: "\n").filter { $0.hasPrefix("sentry: ") }
            #expect(said.count == 1 && said.first?.hasPrefix("sentry: \(sentence)") == true, "\(path): \(result.err)")
            #expect(!result.err.contains("Error Domain") && !result.err.contains("NSCocoaErrorDomain"))
        }
    }

    @Test func replayFindsPlaybooksOrSaysWhichFlagToUse() throws {
        let audit = try Self.replayFile("logins.jsonl", Array(Self.failedLogins.joined(separator: "\n").utf8))
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("replay-cwd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        defer { for url in [audit, elsewhere] { try? FileManager.default.removeItem(at: url) } }
        let none = try run(["detect", "replay", audit.path], directory: elsewhere)
        #expect(none.status != 0)
        #expect(none.err.contains("no playbooks") && none.err.contains("--playbooks DIR") && none.err.contains("SENTRY_PLAYBOOKS"), "\(none.err)")
        let fromEnvironment = try run(
            ["detect", "replay", audit.path], environment: ["SENTRY_PLAYBOOKS": Self.root.appendingPathComponent("Playbooks").path],
            directory: elsewhere)
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.err)")
        #expect(fromEnvironment.out.contains("slack.failed_logins_by_ip"))
        let missing = try run(["detect", "replay", audit.path], environment: ["SENTRY_PLAYBOOKS": "/nonexistent/playbooks"], directory: elsewhere)
        #expect(missing.status != 0 && missing.err.contains("SENTRY_PLAYBOOKS is /nonexistent/playbooks, which is not a folder"), "\(missing.err)")
        let flag = try run(["detect", "replay", audit.path, "--playbooks", Self.root.appendingPathComponent("Playbooks").path], directory: elsewhere)
        #expect(flag.status == 0, "\(flag.err)")
    }

    @Test func replayDrawsProgressOnlyOnATerminal() throws {
        let audit = try Self.replayFile("logins.jsonl", Array((Self.failedLogins.joined(separator: "\n") + "\n").utf8))
        defer { try? FileManager.default.removeItem(at: audit) }
        let piped = try run(["detect", "replay", audit.path])
        #expect(!piped.err.contains("\u{1B}[2K") && !piped.err.contains("\r"))
        let terminal = try runWithTerminalStandardError(["detect", "replay", audit.path])
        #expect(terminal.status == 0)
        #expect(terminal.err.contains("\r\u{1B}[2K25 lines") && terminal.err.contains("lines/s  [########################] 100%"), "\(terminal.err)")
        // Standard output stays detections as JSON lines.
        #expect(terminal.out.split(separator: "\n").allSatisfy { JSONValue.parse(Array($0.utf8))?["detection"] != nil })
        #expect(terminal.out.split(separator: "\n").count == 1)
    }

    /// Runs the binary with standard error on a pseudo-terminal, as an operator's shell has it: `script` gives the
    /// command a terminal and copies what it shows; standard output goes to a file.
    func runWithTerminalStandardError(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let binary = try #require(Self.binary)
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("replay-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        func quoted(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let command = ([binary.path] + arguments).map(quoted).joined(separator: " ") + " > " + quoted(output.path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = ["-qec", command, "/dev/null"]
        process.environment = ["PATH": "/usr/bin:/bin"]
        process.currentDirectoryURL = Self.root
        let shown = Pipe()
        process.standardOutput = shown
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let screen = shown.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "", String(decoding: screen, as: UTF8.self))
    }
}

extension ServerBinaryTests {
    /// Audit lines of bursts that cross the shipped playbooks' thresholds, with background traffic, over three days.
    static func burstyAuditLines(seed: UInt64) -> [String] {
        var rng = SplitMix64(seed: seed)
        var lines: [String] = []
        let names = ["Q3-secret-plan.pdf", "secretary-notes.docx", "PrivateKey.pem", "payroll.xlsx", "holiday.jpg"]
        for burst in 0..<30 {
            let start = 1_795_000_000 + Int.random(in: 0...(3 * 86_400), using: &rng)
            let user = "W0USER\(Int.random(in: 1...3, using: &rng))"
            for index in 0..<Int.random(in: 5...26, using: &rng) {
                let at = start + Int.random(in: 0...590, using: &rng)
                let id = "b\(burst)-\(index)"
                if burst % 2 == 0 {
                    let ip = "203.0.113.\(Int.random(in: 1...3, using: &rng))"
                    lines.append(
                        #"{"id":"\#(id)","date_create":\#(at),"action":"user_login_failed","actor":{"user":{"id":"\#(user)"}},"context":{"ip_address":"\#(ip)"}}"#
                    )
                } else {
                    let name = names.randomElement(using: &rng)!
                    lines.append(
                        #"{"id":"\#(id)","date_create":\#(at),"action":"file_downloaded","actor":{"user":{"id":"\#(user)"}},"entity":{"file":{"id":"F\#(index)","name":"\#(name)"}}}"#
                    )
                }
            }
        }
        return lines.sorted { a, b in
            let at = { (line: String) in line.split(separator: ",")[1] }
            return at(a) == at(b) ? a < b : at(a) < at(b)
        }
    }

    /// Any order of the same file gives the same detections, byte for byte.
    @Test func replayGivesTheSameDetectionsWhateverTheFilesOrder() throws {
        var rng = SplitMix64(seed: 0x50_4E_11)
        let lines = Self.burstyAuditLines(seed: 0x50_4E_11)
        let logins = lines.filter { $0.contains("user_login_failed") }
        let downloads = lines.filter { !$0.contains("user_login_failed") }
        let orders: [(String, [String])] = [
            ("shuffled", lines.shuffled(using: &rng)), ("newest first", lines.reversed()), ("logins then downloads", logins + downloads),
            ("downloads then logins", downloads + logins),
        ]
        let sorted = try Self.replayFile("sorted.jsonl", Array(lines.joined(separator: "\n").utf8))
        let expected = try run(["detect", "replay", sorted.path])
        #expect(expected.status == 0)
        #expect(expected.out.split(separator: "\n").count >= 3, "the bursts fire: \(expected.err)")
        #expect(!expected.err.contains("not in time order"))
        for (name, order) in orders {
            let file = try Self.replayFile("\(name).jsonl", Array(order.joined(separator: "\n").utf8))
            let replayed = try run(["detect", "replay", file.path])
            #expect(replayed.status == 0)
            #expect(replayed.out == expected.out, "\(name)")
            #expect(replayed.err.contains("not in time order"), "\(name): \(replayed.err)")
            #expect(replayed.err.contains("\(lines.count) events"), "\(name): \(replayed.err)")
        }
    }
}
