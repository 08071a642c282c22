import Foundation
import Hummingbird
import SentryCore
import SentryDetect
import SentryEngine
import SentryStore

/// `/hooks/detections` (DESIGN.md §4.4): counted, then authenticated by `WebhookAuthenticationMiddleware`; the
/// handler sees only the authenticated body, on its `WebhookRequestContext`.
struct DetectionHookController: Sendable {
    let context: SentryContext

    var endpoints: RouteCollection<SentryRequestContext> {
        let routes = RouteCollection(context: SentryRequestContext.self)
        routes.counted("detections", as: "hooks_detections", context)
            .add(middleware: authentication)
            .group(context: WebhookRequestContext.self)
            .post { try await self.detection($0, $1) }
        return routes
    }

    var authentication: WebhookAuthenticationMiddleware {
        WebhookAuthenticationMiddleware(
            token: context.configuration.webhookToken, secret: context.configuration.webhookSecret, clock: context.clock, metrics: context.metrics)
    }

    func detection(_ request: Request, _ authenticated: WebhookRequestContext) async throws -> Response {
        let configuration = context.configuration
        let body = authenticated.authenticatedWebhook.body
        guard request.isJSON else {
            return .json(.unsupportedMediaType, ["error": "Content-Type must be application/json"])
        }
        let detection: Detection
        do {
            detection = try Detection.decodeWebhook(body)
        } catch {
            return .json(.badRequest, ["error": .string(error.description), "field": .string(error.field)])
        }
        guard let playbook = context.catalog.playbook(for: detection.detection) else {
            return .json(
                .unprocessableContent,
                ["error": .string("no playbook answers detection '\(detection.detection)' and there is no catch-all playbook (detection: '*')")])
        }
        guard let channel = playbook.channel ?? configuration.slackAlertChannel else {
            return .json(
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
        return .json(.accepted, ["alert_id": .string(result.alertID), "status": .string(result.status.rawValue)])
    }
}
