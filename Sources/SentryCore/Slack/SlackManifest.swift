/// The Slack app manifest for Sentry, with request URLs under a public base URL.
public enum SlackManifest {
    /// Bot scopes for the Web API methods the bot calls, and no others.
    public static let botScopes = [
        "app_mentions:read",  // app_mention events
        "channels:history",  // conversations.history: find an alert already posted before re-posting
        "chat:write",  // chat.postMessage, chat.update, chat.postEphemeral
        "commands",  // /sentry
        "groups:history",  // conversations.history in private alert channels
        "im:history",  // conversations.history in a subject's DM: find a question already sent before re-sending
        "im:write",  // conversations.open: the question to an alert's subject (confirm_with_subject)
        "usergroups:read",  // usergroups.users.list: responder groups
        "users:read",  // users.info
        "users:read.email",  // users.lookupByEmail: an engine's email or UPN subject as a Slack user
    ]

    /// The Web API methods the bot token calls, with the scope each needs (none for views.open); the
    /// manifest asks for exactly these scopes plus `commands` and `app_mentions:read`.
    public static let methodScopes: [String: [String]] = [
        "chat.postMessage": ["chat:write"], "chat.update": ["chat:write"], "chat.postEphemeral": ["chat:write"],
        "conversations.history": ["channels:history", "groups:history", "im:history"],
        "conversations.open": ["im:write"],
        "conversations.replies": ["channels:history", "groups:history"], "usergroups.users.list": ["usergroups:read"],
        "users.info": ["users:read"], "users.lookupByEmail": ["users:read.email"], "views.open": [], "views.publish": [],
    ]

    public static func json(baseURL: String) -> JSONValue {
        json(requestURLs: baseURL.withoutTrailingSlashes)
    }

    /// The manifest for Socket Mode (`SLACK_APP_TOKEN`): the same app with no request URLs, callbacks over sockets.
    public static func socketMode() -> JSONValue {
        json(requestURLs: nil)
    }

    static func json(requestURLs base: String?) -> JSONValue {
        var command: [String: JSONValue] = [
            "command": "/sentry",
            "description": "Alerts, uplinks and containment",
            "usage_hint": "help | alerts | alert ID",
            "should_escape": false,
        ]
        var events: [String: JSONValue] = ["bot_events": ["app_mention", "app_home_opened"]]
        var interactivity: [String: JSONValue] = ["is_enabled": true]
        if let base {
            command["url"] = .string(base + "/slack/commands")
            events["request_url"] = .string(base + "/slack/events")
            interactivity["request_url"] = .string(base + "/slack/interactivity")
        }
        return [
            "_metadata": ["major_version": 1, "minor_version": 1],
            "display_information": [
                "name": "Sentry",
                "description": "Incident response for security alerts: acknowledge, contain, resolve.",
                "background_color": "#1d2b3a",
            ],
            "features": [
                "bot_user": ["display_name": "Sentry", "always_online": true],
                "app_home": [
                    // The question to an alert's subject arrives in the Messages tab; nobody can write back there.
                    "home_tab_enabled": true, "messages_tab_enabled": true, "messages_tab_read_only_enabled": true,
                ],
                "slash_commands": [.object(command)],
            ],
            "oauth_config": ["scopes": ["bot": .array(botScopes.map(JSONValue.string))]],
            "settings": [
                "event_subscriptions": .object(events),
                "interactivity": .object(interactivity),
                "org_deploy_enabled": false,
                "socket_mode_enabled": .bool(base == nil),
                "token_rotation_enabled": false,
            ],
        ]
    }
}
