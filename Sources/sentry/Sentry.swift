import ArgumentParser
import Foundation
import Logging
import SentryConnectors
import SentryCore
import SentryDemo
import SentryDetect
import SentryEngine
import SentryServer
import SentryStore
import SentryTesting
import ServiceLifecycle

@main
struct Sentry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sentry",
        abstract: "Slack-native incident response for security teams.",
        subcommands: [
            Serve.self, DemoCommand.self, Playbooks.self, Simulate.self, Manifest.self, Audit.self, Db.self, Detect.self, SimulatorCommand.self,
            Bench.self,
        ])
}

/// Prints one line to standard error and exits with 1.
func fail(_ lines: [String]) -> Never {
    for line in lines { FileHandle.standardError.write(Data("sentry: \(line)\n".utf8)) }
    Foundation.exit(1)
}

/// The playbooks of a folder, or each problem as `file:line: message` and exit 1 — the same for every command.
func loadPlaybooks(_ directory: String, hint: String? = nil) -> [Playbook] {
    let loaded = PlaybookLoader.load(directory: directory)
    guard loaded.problems.isEmpty else { fail(loaded.problems.map(\.description) + (hint.map { [$0] } ?? [])) }
    return loaded.playbooks
}

func bootstrapLogging(level: String, format: String) {
    let parsed = Logger.Level(rawValue: level) ?? .info
    LoggingSystem.bootstrap(
        { label, provider in
            var handler: any LogHandler =
                format == "json"
                ? JSONLogHandler(label: label, metadataProvider: provider)
                : TextLogHandler(label: label, metadataProvider: provider)
            handler.logLevel = parsed
            return handler
        }, metadataProvider: RequestID.metadataProvider)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server, effect runner and timers until SIGTERM/SIGINT.")

    func run() async throws {
        let configuration: ServerConfiguration
        switch ServerConfiguration.load(environment: ProcessInfo.processInfo.environment) {
        case .success(let loaded): configuration = loaded
        case .failure(let problems): fail(problems.lines)
        }
        bootstrapLogging(level: configuration.logLevel, format: configuration.logFormat)
        let logger = Logger(label: "sentry")

        // The store first: PostgreSQL is migrated (under its advisory lock) before anything is served.
        let opened = await StoreOpening.forServe(
            configuration.database, passwordFile: configuration.databasePasswordFile, commitBatch: configuration.sqliteCommitBatch, logger: logger)
        // Built once the services before it run: the built-in detections read their state from the store, and
        // PostgreSQL's pool answers only while it runs.
        let app = StartedLater {
            do {
                return try await buildApplication(configuration: configuration, store: opened.store, logger: logger)
            } catch let error as StartupError {
                fail(error.lines)
            }
        }
        // SIGTERM/SIGINT: stop accepting, let in-flight requests and running effects finish; after
        // SENTRY_SHUTDOWN_TIMEOUT what still runs is cancelled (its effect stays pending in the outbox).
        // SIGQUIT cancels at once.
        // The store's own services (PostgreSQL's pool) come first, so they stop last: after the app has finished.
        var group = ServiceGroupConfiguration(
            services: opened.services.map { .init(service: $0) } + [.init(service: app)], gracefulShutdownSignals: [.sigterm, .sigint],
            cancellationSignals: [.sigquit], logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(configuration.shutdownTimeout)
        group.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: group).run()
        logger.info("stopped")
    }
}

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Play a scripted incident against built-in Slack and Meraki simulators on loopback; no credentials.")
    @Flag(help: "Slack's callbacks over Socket Mode (a loopback WebSocket simulator), with a refresh midway") var socketMode = false

    func run() async throws {
        do {
            try await Demo(socketMode: socketMode).run()
        } catch {
            fail(["\(error)"])
        }
    }
}

struct Playbooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check playbooks.", subcommands: [Lint.self, Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the tests each playbook carries; a line per case; exit 1 if any fails.")
        @Argument(help: "Playbook folder") var directory: String = "Playbooks"

        func run() async throws {
            // Like lint: problems on standard output, one line each.
            let loaded = PlaybookLoader.load(directory: directory)
            for problem in loaded.problems { print(problem) }
            if !loaded.problems.isEmpty { throw ExitCode(1) }
            let playbooks = loaded.playbooks
            var failed = 0
            var total = 0
            for playbook in playbooks {
                let results = await PlaybookTestRunner.run(playbook)
                if results.isEmpty { print("\(playbook.source): no tests") }
                for result in results {
                    total += 1
                    if !result.passed { failed += 1 }
                    print("\(result.passed ? "ok  " : "FAIL") \(result.file): \(result.name) — \(result.message)")
                }
            }
            print("\(total - failed) of \(total) playbook tests passed")
            if failed > 0 { throw ExitCode(1) }
        }
    }

    struct Lint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate playbooks; prints file:line: message for each problem.")
        @Argument(help: "Playbook folder") var directory: String = "Playbooks"

        func run() async throws {
            let loaded = PlaybookLoader.load(directory: directory)
            for problem in loaded.problems { print(problem) }
            if !loaded.problems.isEmpty { throw ExitCode(1) }
            print("\(loaded.playbooks.count) playbooks OK: \(loaded.playbooks.map(\.id).joined(separator: ", "))")
        }
    }
}

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dry-run one detection: prints the Slack message (Block Kit JSON) and the state transitions; no network.")
    @Argument(help: "A detection as the webhook takes it (JSON)") var file: String
    @Option(help: "Playbook folder") var playbooks: String = "Playbooks"
    @Option(help: "Channel when the playbook names none") var channel: String = "C0SECALERTS"

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { fail(["\(file): cannot be read"]) }
        let detection: Detection
        do { detection = try Detection.decodeWebhook(Array(data)) } catch { fail(["\(file): \(error.description)"]) }
        guard let playbook = PlaybookCatalog(loadPlaybooks(playbooks)).playbook(for: detection.detection) else {
            fail(["no playbook answers detection '\(detection.detection)' and there is no catch-all playbook"])
        }
        let now = detection.occurredAt ?? Date()
        // The engine the server runs, over a store that lives as long as this command.
        let engine = AlertEngine(store: InMemoryAlertStore())
        let ingested = try await engine.ingest(
            detection, playbook: playbook, channel: playbook.channel ?? channel, newAlertID: "A-SIMULATE", now: now)
        let effects = ingested.transition?.effects ?? []
        print("detection \(detection.id) → playbook \(playbook.id) (\(playbook.source))")
        print("transition: (none) → \(ingested.transition?.alert?.status.rawValue ?? "?"); effects: \(effects.map(describe).joined(separator: ", "))")
        let transition = try await engine.apply(
            .messagePosted(MessageRef(channel: playbook.channel ?? channel, ts: "0.000001")), to: "A-SIMULATE", now: now)
        guard let alert = transition.alert else { return }
        let rendered = AlertMessage.render(alert)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let message: JSONValue = ["channel": .string(alert.channel), "text": .string(rendered.text), "blocks": rendered.blocks]
        print("chat.postMessage:")
        print(String(decoding: try encoder.encode(message), as: UTF8.self))
        try await printApprovedOnly(alert, playbook: playbook, engine: engine, now: now)
        if let timeout = playbook.ackTimeout {
            print(
                "if nobody acknowledges within \(DurationText.format(timeout)): escalation \(playbook.escalation.map { "to \($0.mention.joined(separator: ", "))\($0.channel.map { " in \($0)" } ?? "")" } ?? "reminder in the thread")"
            )
        }
    }

    /// What approved-only would do on a failover to cellular: the rules, and with `auto: true` the transition too.
    func printApprovedOnly(_ alert: Alert, playbook: Playbook, engine: AlertEngine, now: Date) async throws {
        guard alert.isCellularFailover, let network = alert.subject.merakiNetworkID,
            let settings = playbook.actions.first(where: { $0.kind == .approvedOnly })?.approvedOnly
        else { return }
        var containmentID = "C-SIMULATE"
        if settings.auto,
            let change = UplinkChange.from(
                Detection(id: "simulate", detection: alert.detection, subject: alert.subject, evidence: alert.evidence, occurredAt: now))
        {
            let transition = try await engine.apply(.uplinkChanged(change), to: alert.id, now: now)
            containmentID = transition.alert?.containments.last?.id ?? containmentID
            print("failover to cellular, approved-only auto: true → effects: \(transition.effects.map(describe).joined(separator: ", "))")
        } else {
            print(
                "approved-only is offered (button `Approved devices only…`, \(playbook.actions.first { $0.kind == .approvedOnly }?.approvals ?? 0) approval(s))"
            )
        }
        let rules = CellularRulePlan.rules(containmentID: containmentID, settings: settings)
        print(
            "cellular failover rules it would write on \(network) (ours \(settings.placement == .first ? "before" : "after") other admins' rules; groups resolved at run time):"
        )
        print(CellularRulePlan.describe(rules))
        print("rolled back when the primary uplink has been active for \(DurationText.format(settings.debounce)), by Restore, or after its TTL")
    }

    func describe(_ effect: AlertEffect) -> String {
        switch effect {
        case .postAlert: "post alert message"
        case .updateMessage: "update message"
        case .replyInThread(let text): "reply in thread (\(text))"
        case .postNotice(let channel, _): "notice to \(channel)"
        case .postReport(let channel, _, _): "report to \(channel)"
        case .tellUser(let user, _, _): "tell \(user)"
        case .scheduleTimer(let kind, let at): "timer \(kind.rawValue) at \(Timestamp.iso8601(at))"
        case .cancelTimer(let kind): "cancel timer \(kind.rawValue)"
        case .executeContainment(let id): "execute containment \(id)"
        case .releaseContainment(let id): "roll back containment \(id)"
        case .askSubject(let user): "ask \(user) in a direct message whether it was them"
        case .updateQuestion: "update the question in the subject's direct messages"
        }
    }
}

struct Manifest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the Slack app manifest: with request URLs filled in (--url), or for Socket Mode (--socket-mode).")
    @Option(help: "Public base URL of this server, e.g. https://sentry.example.com") var url: String?
    @Flag(help: "The manifest for Socket Mode (SLACK_APP_TOKEN): no request URLs, no public endpoint") var socketMode = false

    func run() async throws {
        let manifest: JSONValue
        switch (url, socketMode) {
        case (nil, true):
            manifest = SlackManifest.socketMode()
        case (let url?, false):
            guard let parsed = URL(string: url), parsed.scheme == "https" || parsed.scheme == "http", parsed.host != nil else {
                fail(["--url must be an http(s) URL such as https://sentry.example.com"])
            }
            manifest = SlackManifest.json(baseURL: url)
        case (nil, false):
            fail(["give --url https://your.host (HTTP callbacks) or --socket-mode (no public endpoint)"])
        case (_?, true):
            fail(["--url and --socket-mode exclude each other: Socket Mode has no request URLs"])
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(manifest), as: UTF8.self))
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The audit trail.", subcommands: [Verify.self, Export.self])

    static func openStore() async -> any AlertStore {
        await StoreOpening.forCommand(environment: ProcessInfo.processInfo.environment)
    }

    static func all(_ store: any AlertStore) async throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        while true {
            let page = try await store.auditEntries(after: entries.last?.seq ?? 0, limit: 10_000)
            if page.isEmpty { return entries }
            entries += page
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the audit hash chain.")
        func run() async throws {
            let entries = try await Audit.all(await Audit.openStore())
            let verdict = AuditChain.verify(entries)
            print(verdict)
            if case .intact = verdict, let last = entries.last {
                // A chain cannot tell on its own that its newest entries were cut off: keep this line elsewhere.
                print("newest entry #\(last.seq) hash \(last.hash)")
            }
            if case .broken = verdict { throw ExitCode(1) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the audit log as JSON lines.")
        func run() async throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            for entry in try await Audit.all(await Audit.openStore()) {
                print(String(decoding: try encoder.encode(entry), as: UTF8.self))
            }
        }
    }
}

struct SimulatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slack-simulator",
        abstract: "Run the local Slack Web API simulator (for benchmarks and local development).",
        shouldDisplay: false)
    @Option(help: "Port on 127.0.0.1") var port: Int = 8091
    @Option(help: "Bot token the simulator accepts") var token: String = "xoxb-simulator-not-real"

    func run() async throws {
        let simulator = SlackSimulator(token: token)
        let app = simulator.application(port: port) { bound in print("slack simulator listening on 127.0.0.1:\(bound)") }
        try await app.runService()
    }
}
