import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import SentryConnectors
import SentryCore
import SentryDetect
import SentryEngine
import SentryStore

/// Everything the HTTP handlers need, passed in once.
public struct SentryContext: Sendable {
    public var configuration: ServerConfiguration
    public var store: any AlertStore
    /// Every change a request makes goes through the engine.
    public var engine: AlertEngine { AlertEngine(store: store) }
    public var catalog: PlaybookCatalog
    public var clock: any SentryClock
    public var metrics: ServerMetrics
    public var responders: ResponderDirectory
    public var slack: any SlackMessaging
    /// Meraki uplinks for `/sentry uplinks`; nil when Meraki is not configured.
    public var uplinks: (any UplinkLookup)?
    public var logger: Logger
    /// Called after a write that queued effects.
    public var wake: @Sendable () -> Void

    public init(
        configuration: ServerConfiguration, store: any AlertStore, catalog: PlaybookCatalog, clock: any SentryClock,
        metrics: ServerMetrics, responders: ResponderDirectory, slack: any SlackMessaging, uplinks: (any UplinkLookup)? = nil, logger: Logger,
        wake: @escaping @Sendable () -> Void
    ) {
        self.slack = slack
        self.uplinks = uplinks
        self.configuration = configuration
        self.store = store
        self.catalog = catalog
        self.clock = clock
        self.metrics = metrics
        self.responders = responders
        self.logger = logger
        self.wake = wake
    }
}

/// The HTTP endpoints of DESIGN.md §4.3.
public struct SentryRoutes: Sendable {
    static let slackTimestamp = HTTPField.Name("X-Slack-Request-Timestamp")!
    static let slackSignature = HTTPField.Name("X-Slack-Signature")!
    static let sentryTimestamp = HTTPField.Name("X-Sentry-Request-Timestamp")!
    static let sentrySignature = HTTPField.Name("X-Sentry-Signature")!
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let sslCheckMarker = Array("ssl_check=".utf8)

    let context: SentryContext
    let slackVerifier: RequestVerifier
    let webhookVerifier: RequestVerifier?

    public init(context: SentryContext) {
        self.context = context
        self.slackVerifier = RequestVerifier(secret: context.configuration.slackSigningSecret)
        self.webhookVerifier = context.configuration.webhookSecret.map(RequestVerifier.init(secret:))
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.post("/slack/commands") { request, _ in await self.counted("slack_commands") { try await self.slashCommand(request) } }
        router.post("/slack/interactivity") { request, _ in await self.counted("slack_interactivity") { try await self.interactivity(request) } }
        router.post("/slack/events") { request, _ in await self.counted("slack_events") { try await self.events(request) } }
        router.post("/hooks/detections") { request, _ in await self.counted("hooks_detections") { try await self.detectionHook(request) } }
        router.get("/healthz") { _, _ in Self.text(.ok, "ok\n") }
        router.get("/readyz") { _, _ in await self.counted("readyz") { try await self.ready() } }
        router.get("/metrics") { _, _ in await self.counted("metrics") { try await self.metricsPage() } }
    }

    /// Counts the request, answers a body the client broke with a 4xx (counted, logged at debug), and turns
    /// unexpected errors into a logged 500 with no details.
    /// Every log line written while answering carries `request.id`; the answer carries it as `X-Request-Id`.
    func counted(_ endpoint: String, _ body: () async throws -> Response) async -> Response {
        let id = RequestContext.makeID()
        let started = ContinuousClock.now
        var response = await RequestContext.$id.withValue(id) { () async -> Response in
            let response: Response
            do {
                response = try await body()
            } catch let refused as RequestBodyError {
                context.metrics.bodyRefused(endpoint: endpoint, reason: refused.reason)
                context.logger.debug(
                    "request body refused", metadata: ["http.endpoint": "\(endpoint)", "reason": "\(refused.reason)", "error": "\(refused.message)"])
                var refusal = Self.text(refused.status, refused.message + "\n")
                if refused.closesConnection { refusal.headers[.connection] = "close" }
                response = refusal
            } catch {
                context.logger.error("request failed", metadata: ["http.endpoint": "\(endpoint)", "error": "\(error)"])
                response = Self.text(.internalServerError, "internal error; nothing was lost, try again (request \(id))\n")
            }
            context.logger.debug(
                "request", metadata: [
                    "http.endpoint": "\(endpoint)", "http.status": "\(response.status.code)",
                    "duration_ms": "\((ContinuousClock.now - started).inSeconds * 1000)",
                ])
            return response
        }
        response.headers[Self.requestID] = id
        context.metrics.request(endpoint: endpoint, status: Int(response.status.code))
        return response
    }

    // MARK: Request reading

    enum Verified {
        case success([UInt8])
        case failure(Response)
    }

    /// Reads at most 64 KiB; larger bodies are refused before anything hashes them. A body the client broke
    /// (too large, framing the parser refuses, cut short, a transfer coding we do not decode) throws
    /// `RequestBodyError`, which `counted` answers.
    func readBody(_ request: Request) async throws -> [UInt8] {
        let limit = RequestVerifier.maxBodyBytes
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > limit { throw RequestBodyError.tooLarge(limit: limit) }
        let transferEncoding = request.headers[.transferEncoding]
        var buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw RequestBodyError.tooLarge(limit: limit)
        } catch let error as HTTPParserError {
            throw RequestBodyError(parsing: error, transferEncoding: transferEncoding)
        }
        // The parser undid the chunking; a coding under it (`gzip, chunked`) is still on the bytes.
        if let transferEncoding, RequestBodyError.codings(transferEncoding) != ["chunked"] {
            throw RequestBodyError.unsupportedTransferCoding(transferEncoding)
        }
        // The parser reports a connection that ends early; this holds even if a stream ever just stops.
        if let declared, buffer.readableBytes < declared { throw RequestBodyError.truncated }
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// Size, then signature: the verified bytes, or the response that refuses them.
    func verifiedSlackBody(_ request: Request, read given: [UInt8]? = nil) async throws -> Verified {
        let body: [UInt8]
        if let given { body = given } else { body = try await readBody(request) }
        let verdict = slackVerifier.verify(
            timestamp: request.headers[Self.slackTimestamp], signature: request.headers[Self.slackSignature], body: body,
            now: Int64(context.clock.now().timeIntervalSince1970))
        if case .failure(let failure) = verdict {
            context.metrics.verificationFailed(reason: failure.rawValue)
            context.logger.notice("slack request refused", metadata: ["reason": "\(failure.rawValue)"])
            return .failure(Self.text(.unauthorized, "invalid request signature (\(failure.rawValue))\n"))
        }
        return .success(body)
    }

    static func isSSLCheck(_ body: [UInt8]) -> Bool {
        // Parsed only when the bytes name the field: every slash command passes through here.
        let marker = sslCheckMarker
        guard body.count < 1_024, body.count >= marker.count,
            (0...(body.count - marker.count)).contains(where: { body[$0..<($0 + marker.count)].elementsEqual(marker) }),
            let form = try? FormBody.parse(body)
        else { return false }
        return form["ssl_check"] == "1"
    }

    static func isForm(_ request: Request) -> Bool {
        guard let type = request.headers[.contentType]?.lowercased() else { return false }
        return type.hasPrefix("application/x-www-form-urlencoded")
    }

    static func isJSON(_ request: Request) -> Bool {
        guard let type = request.headers[.contentType]?.lowercased() else { return false }
        return type.hasPrefix("application/json")
    }

    // MARK: /slack/commands

    func slashCommand(_ request: Request) async throws -> Response {
        // Slack's certificate checks (`ssl_check=1`) are not guaranteed to be signed, so they are answered with a
        // bare 200 before verification, as Slack's SDKs do. Only that exact field value counts, and nothing in
        // such a request is ever processed: it cannot reach the command handler.
        let read = try await readBody(request)
        if Self.isSSLCheck(read) {
            return Response(status: .ok)
        }
        let body: [UInt8]
        switch try await verifiedSlackBody(request, read: read) {
        case .failure(let response): return response
        case .success(let bytes): body = bytes
        }
        guard Self.isForm(request) else { return Self.text(.unsupportedMediaType, "expected application/x-www-form-urlencoded\n") }
        let form: [String: String]
        do { form = try FormBody.parse(body) } catch { return Self.text(.badRequest, "\(error)\n") }
        let command: SlashCommand
        do { command = try SlashCommand(form: form) } catch { return Self.text(.badRequest, "\(error)\n") }
        let answer = try await CommandResponder(context: context).answer(command)
        return Self.json(.ok, answer)
    }

    // MARK: /slack/interactivity

    func interactivity(_ request: Request) async throws -> Response {
        let body: [UInt8]
        switch try await verifiedSlackBody(request) {
        case .failure(let response): return response
        case .success(let bytes): body = bytes
        }
        guard Self.isForm(request) else { return Self.text(.unsupportedMediaType, "expected application/x-www-form-urlencoded\n") }
        let payload: InteractionPayload
        do {
            payload = try InteractionPayload.decode(form: try FormBody.parse(body))
        } catch {
            return Self.text(.badRequest, "\(error)\n")
        }
        switch payload {
        case .blockActions(let actions):
            return try await blockAction(actions)
        case .viewSubmission(let callbackID, let userID, let metadata, let values):
            guard callbackID == ContainmentModal.callbackID else { return Response(status: .ok) }
            return try await containmentSubmitted(userID: userID, metadata: metadata, values: values)
        case .viewClosed, .other:
            return Response(status: .ok)
        }
    }

    func blockAction(_ actions: InteractionPayload.BlockActions) async throws -> Response {
        let now = context.clock.now()
        var logger = context.logger
        logger[metadataKey: "slack.action_id"] = "\(actions.actionID)"
        logger[metadataKey: "slack.user"] = "\(actions.userID)"
        if let kind = ContainmentAction.Kind(rawValue: actions.actionID) {
            return try await containmentButton(kind, actions, logger: logger)
        }
        if let decision = ContainmentDecision.Action(rawValue: actions.actionID) {
            return try await containmentDecision(decision, actions, logger: logger)
        }
        guard let action = AlertAction(rawValue: actions.actionID) else {
            let text = "Sentry does not know the button `\(actions.actionID.prefix(60))`; nothing was changed."
            logger.notice("button not handled")
            try await tell(actions.userID, text, responseURL: actions.responseURL, now: now)
            return Response(status: .ok)
        }
        guard let alertID = actions.value, !alertID.isEmpty else {
            try await tell(actions.userID, "That button carries no alert id; nothing was changed.", responseURL: actions.responseURL, now: now)
            return Response(status: .ok)
        }
        logger[metadataKey: "alert.id"] = "\(alertID.prefix(40))"
        var playbookResponders: [String] = []
        if context.catalog.playbooks.contains(where: { !$0.responders.isEmpty }),
            let playbookID = try await context.store.playbookID(ofAlert: alertID)
        {
            playbookResponders = context.catalog.playbook(id: playbookID)?.responders ?? []
        }
        let mayAct = await context.responders.mayActOnAlerts(userID: actions.userID, playbookResponders: playbookResponders)
        let click = Click(action: action, userID: actions.userID, mayAct: mayAct, responseURL: actions.responseURL)
        let transition = try await context.engine.apply(.clicked(click), to: String(alertID.prefix(64)), now: now)
        logger.info("click", metadata: ["outcome": "\(transition.outcome)"])
        if !transition.effects.isEmpty { context.wake() }
        return Response(status: .ok)
    }

    func tell(_ user: String, _ text: String, responseURL: String?, now: Date) async throws {
        guard responseURL != nil else { return }
        _ = try await context.engine.enqueue(
            .tellUser(userID: user, text: text, responseURL: responseURL), idempotencyKey: "tell:\(UUID().uuidString)", now: now)
        context.wake()
    }

    // MARK: /slack/events

    func events(_ request: Request) async throws -> Response {
        let body: [UInt8]
        switch try await verifiedSlackBody(request) {
        case .failure(let response): return response
        case .success(let bytes): body = bytes
        }
        guard Self.isJSON(request) else { return Self.text(.unsupportedMediaType, "expected application/json\n") }
        guard let json = JSONValue.parse(body), json.objectValue != nil else { return Self.text(.badRequest, "body is not a JSON object\n") }
        switch json["type"]?.stringValue {
        case "url_verification":
            guard let challenge = json["challenge"]?.stringValue else { return Self.text(.badRequest, "challenge is missing\n") }
            return Self.json(.ok, ["challenge": .string(challenge)])
        case "event_callback":
            guard let event = json["event"], let eventID = json["event_id"]?.stringValue else {
                return Self.text(.badRequest, "event or event_id is missing\n")
            }
            if event["type"]?.stringValue == "app_mention", let channel = event["channel"]?.stringValue {
                let text = try await CommandResponder(context: context).statusLine()
                // Slack retries events it thinks we missed: the event id makes the answer happen once.
                let fresh = try await context.engine.enqueue(
                    .postNotice(channel: channel, text: text), idempotencyKey: "event:\(eventID)", now: context.clock.now())
                if fresh { context.wake() }
            }
            return Response(status: .ok)
        default:
            return Response(status: .ok)
        }
    }

    // MARK: /hooks/detections

    func detectionHook(_ request: Request) async throws -> Response {
        let configuration = context.configuration
        guard configuration.webhookSecret != nil || configuration.webhookToken != nil else {
            return Self.text(.notFound, "not found\n")
        }
        let body = try await readBody(request)
        if let failure = authenticateHook(request, body: body) {
            context.metrics.verificationFailed(reason: "webhook_" + failure)
            return Self.json(.unauthorized, ["error": .string("unauthorized: \(failure)")])
        }
        guard Self.isJSON(request) else {
            return Self.json(.unsupportedMediaType, ["error": "Content-Type must be application/json"])
        }
        let detection: Detection
        do {
            detection = try Detection.decodeWebhook(body)
        } catch {
            return Self.json(.badRequest, ["error": .string(error.description), "field": .string(error.field)])
        }
        guard let playbook = context.catalog.playbook(for: detection.detection) else {
            return Self.json(
                .unprocessableContent,
                ["error": .string("no playbook answers detection '\(detection.detection)' and there is no catch-all playbook (detection: '*')")])
        }
        guard let channel = playbook.channel ?? configuration.slackAlertChannel else {
            return Self.json(
                .unprocessableContent,
                ["error": .string("playbook '\(playbook.id)' names no channel and SLACK_ALERT_CHANNEL is not set")])
        }
        let result = try await context.engine.ingest(
            detection, playbook: playbook, channel: channel, newAlertID: AlertID.make(), now: context.clock.now())
        if result.transition.map({ !$0.effects.isEmpty }) ?? false { context.wake() }
        // An engine's failover or recovery reaches approved-only like the collector's; on a duplicate too, so an
        // engine's retry after a crash finishes what the first delivery began (the machine ignores repeats).
        if var change = UplinkChange.from(detection, receivedAt: context.clock.now()) {
            change.dryRun = configuration.dryRun
            change.heldElsewhere = try await UplinkChangeRouting.route(change, engine: context.engine, now: context.clock.now())
            if change.kind == .cellularFailover {
                _ = try await context.engine.apply(.uplinkChanged(change), to: result.alertID, now: context.clock.now())
            }
            context.wake()
        }
        context.logger.info(
            "detection received",
            metadata: ["alert.id": "\(result.alertID)", "detection": "\(detection.detection)", "status": "\(result.status.rawValue)"])
        return Self.json(.accepted, ["alert_id": .string(result.alertID), "status": .string(result.status.rawValue)])
    }

    /// nil when authenticated; otherwise the reason (never the secret).
    func authenticateHook(_ request: Request, body: [UInt8]) -> String? {
        let configuration = context.configuration
        if let authorization = request.headers[.authorization] {
            guard let token = configuration.webhookToken else { return "bearer tokens are not enabled (SENTRY_WEBHOOK_TOKEN unset)" }
            guard authorization.hasPrefix("Bearer ") else { return "Authorization must be 'Bearer <token>'" }
            let given = Array(authorization.dropFirst("Bearer ".count).utf8)
            // Hash both sides so the comparison takes the same time whatever the lengths.
            return Crypto.constantTimeEqual(Crypto.sha256(given), Crypto.sha256(Array(token.utf8))) ? nil : "bad token"
        }
        if let verifier = webhookVerifier {
            let verdict = verifier.verify(
                timestamp: request.headers[Self.sentryTimestamp], signature: request.headers[Self.sentrySignature], body: body,
                now: Int64(context.clock.now().timeIntervalSince1970))
            if case .failure(let failure) = verdict { return failure.rawValue }
            return nil
        }
        return "missing Authorization: Bearer token"
    }

    // MARK: health

    func ready() async throws -> Response {
        do {
            try await context.store.ping()
        } catch {
            return Self.text(.serviceUnavailable, "store unreachable\n")
        }
        guard !context.catalog.playbooks.isEmpty else { return Self.text(.serviceUnavailable, "no playbooks loaded\n") }
        return Self.text(.ok, "ready: \(context.catalog.playbooks.count) playbooks\n")
    }

    func metricsPage() async throws -> Response {
        let text = await context.metrics.render(store: try await context.store.gauges())
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: responses

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func json(_ status: HTTPResponse.Status, _ value: JSONValue) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: value.encoded())))
    }
}
