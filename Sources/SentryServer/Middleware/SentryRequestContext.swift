import Hummingbird

/// The request context of every Sentry route: Hummingbird's own storage, plus what the authentication
/// middleware let through.
public struct SentryRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `SlackSignatureMiddleware` once the signature holds; nil before it and on every other route.
    public internal(set) var verifiedSlackBody: VerifiedSlackBody?
    /// Set by `WebhookAuthenticationMiddleware` once the engine proved itself; nil before it and elsewhere.
    public internal(set) var authenticatedWebhook: AuthenticatedWebhook?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}

/// The context of a Slack route's handler. It exists only with a verified body: a route registered without
/// `SlackSignatureMiddleware` fails with a 500 before its handler runs, instead of reading an unverified body.
public struct SlackRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let verifiedSlackBody: VerifiedSlackBody

    public init(context: SentryRequestContext) throws {
        guard let body = context.verifiedSlackBody else { throw UnauthenticatedRoute.slack }
        self.coreContext = context.coreContext
        self.verifiedSlackBody = body
    }
}

/// The context of a detection hook's handler; like `SlackRequestContext`, it exists only behind its middleware.
public struct WebhookRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let authenticatedWebhook: AuthenticatedWebhook

    public init(context: SentryRequestContext) throws {
        guard let webhook = context.authenticatedWebhook else { throw UnauthenticatedRoute.webhook }
        self.coreContext = context.coreContext
        self.authenticatedWebhook = webhook
    }
}

/// A route was registered without the middleware its context needs: a bug in the wiring, answered 500.
enum UnauthenticatedRoute: Error, CustomStringConvertible {
    case slack, webhook

    var description: String {
        switch self {
        case .slack: "a Slack route was reached without SlackSignatureMiddleware"
        case .webhook: "a detection hook was reached without WebhookAuthenticationMiddleware"
        }
    }
}
