import Foundation
import Hummingbird
import SentryCore
import SentryEngine
import SentryStore

/// `POST /hooks/<engine>` for every adapter in `EngineRegistry` (issue 16): counted per engine, authenticated by
/// what that engine can send, mapped by its adapter, and fed through `AlertEngine.ingestEngine` in one
/// transaction — so an engine's body either lands whole or changes nothing.
struct EngineHookController: Sendable {
    let context: SentryContext

    var endpoints: RouteCollection<SentryRequestContext> {
        let routes = RouteCollection(context: SentryRequestContext.self)
        for adapter in EngineRegistry.adapters {
            let engine = adapter.engine
            routes.counted(RouterPath(engine.id), as: Self.endpoint(engine), context)
                .add(middleware: authentication(engine))
                .group(context: WebhookRequestContext.self)
                .post { try await self.hook(adapter, $0, $1) }
        }
        return routes
    }

    /// The `endpoint` label of its requests: `hooks_azure_monitor`. Never the path with its query.
    static func endpoint(_ engine: Engine) -> String {
        "hooks_" + engine.id.replacingOccurrences(of: "-", with: "_")
    }

    func authentication(_ engine: Engine) -> WebhookAuthenticationMiddleware {
        WebhookAuthenticationMiddleware(
            token: context.configuration.webhookToken, secret: context.configuration.webhookSecret, engine: engine, clock: context.clock,
            metrics: context.metrics)
    }

    func hook(_ adapter: any EngineAdapter.Type, _ request: Request, _ authenticated: WebhookRequestContext) async throws -> Response {
        let engine = adapter.engine
        let intake: EngineIntake
        do throws(EngineIntakeError) {
            intake = try adapter.decode(authenticated.authenticatedWebhook.body)
        } catch {
            context.metrics.engineDetection(engine: engine.id, status: error.looksLike == nil ? "bad_body" : "wrong_engine")
            var answer: [String: JSONValue] = ["error": .string(error.description), "field": error.path.map(JSONValue.string) ?? .null]
            if let other = error.looksLike { answer["looks_like"] = .string(other.id) }
            return .json(.badRequest, .object(answer))
        }
        // Every detection needs its playbook and channel before anything is written.
        var items: [EngineItem] = []
        for item in intake.detections {
            guard let playbook = context.catalog.playbook(for: item.detection.detection) else {
                context.metrics.engineDetection(engine: engine.id, status: "no_playbook")
                return .json(
                    .unprocessableContent,
                    [
                        "error": .string(
                            "no playbook answers detection '\(item.detection.detection)' (a playbook with detection: '\(engine.detectionPrefix).*' would) and there is no catch-all playbook (detection: '*')"
                        )
                    ])
            }
            guard let channel = playbook.channel ?? context.configuration.slackAlertChannel else {
                return .json(
                    .unprocessableContent, ["error": .string("playbook '\(playbook.id)' names no channel and SLACK_ALERT_CHANNEL is not set")])
            }
            var detection = item.applying(subjectFrom: playbook.subjectFrom)
            detection.engineAlert = item.engineAlertID
            // Block user needs a Slack user: an email or UPN subject is looked up (a resolve needs none).
            if item.resolved == nil, let emails = context.emails { detection.subject = await emails.resolving(detection.subject) }
            items.append(
                EngineItem(
                    detection: detection, resolution: item.resolved, firingID: item.firingID, playbook: playbook, channel: channel,
                    newAlertID: AlertID.make()))
        }
        let results = try await context.engine.ingestEngine(items, now: context.clock.now())
        // Anything written may have queued work (a grouped firing's update is queued by the store's record of the
        // change, not listed among the transition's effects): the runner looks, at the cost of one query.
        if results.contains(where: { $0.status != .duplicate && $0.status != .ignored }) { context.wake() }
        var alerts: [JSONValue] = []
        for result in results {
            context.metrics.engineDetection(engine: engine.id, status: result.status.rawValue)
            var entry: [String: JSONValue] = ["id": .string(result.detectionID), "status": .string(result.status.rawValue)]
            entry["alert_id"] = result.alertID.map(JSONValue.string) ?? .null
            entry["alert_status"] = result.alertStatus.map { .string($0.rawValue) } ?? .null
            alerts.append(.object(entry))
        }
        context.logger.info(
            "engine detections received",
            metadata: [
                "engine": "\(engine.id)", "http.path": "\(request.uri.path)", "detections": "\(results.count)",
                "statuses": "\(results.map(\.status.rawValue).joined(separator: ","))",
            ])
        var answer: [String: JSONValue] = ["engine": .string(engine.id), "alerts": .array(alerts)]
        if results.count == 1, let only = alerts.first?.objectValue {
            answer["alert_id"] = only["alert_id"]
            answer["status"] = only["status"]
        }
        return .json(.accepted, .object(answer))
    }
}

extension EngineIntakeError {
    /// The engine a body of another engine looks like.
    var looksLike: Engine? {
        if case .wrongEngine(_, let other) = self { return other }
        return nil
    }
}
