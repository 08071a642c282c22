import Foundation
import SentryCore
import Testing

/// `sentry manifest --socket-mode` (issue 15, point 4): Socket Mode on, and no request URL anywhere.
@Suite struct SlackManifestSocketModeTests {
    static func requestURLs(_ value: JSONValue, _ path: String = "") -> [String] {
        switch value {
        case .object(let object):
            object.flatMap { key, inner in (["url", "request_url"].contains(key) ? [path + "/" + key] : []) + requestURLs(inner, path + "/" + key) }
        case .array(let items):
            items.enumerated().flatMap { requestURLs($1, "\(path)/\($0)") }
        default:
            []
        }
    }

    @Test func theSocketModeManifestHasNoRequestURLs() {
        let manifest = SlackManifest.socketMode()
        #expect(manifest["settings"]?["socket_mode_enabled"] == true)
        #expect(Self.requestURLs(manifest).isEmpty)
        #expect(manifest["features"]?["slash_commands"]?.arrayValue?.first?["command"] == "/sentry")
        #expect(manifest["settings"]?["interactivity"]?["is_enabled"] == true)
        #expect(manifest["settings"]?["event_subscriptions"]?["bot_events"] == ["app_mention", "app_home_opened"])
        #expect(manifest["oauth_config"] == SlackManifest.json(baseURL: "https://x.example")["oauth_config"])
    }

    @Test func theHTTPManifestKeepsItsThreeRequestURLs() {
        let manifest = SlackManifest.json(baseURL: "https://sentry.example.com/")
        #expect(manifest["settings"]?["socket_mode_enabled"] == false)
        #expect(
            Self.requestURLs(manifest).sorted() == [
                "/features/slash_commands/0/url", "/settings/event_subscriptions/request_url", "/settings/interactivity/request_url",
            ])
        #expect(manifest["settings"]?["interactivity"]?["request_url"] == "https://sentry.example.com/slack/interactivity")
    }

    @Test(arguments: [SlackManifest.socketMode(), SlackManifest.json(baseURL: "https://sentry.example.com/")])
    func bothManifestsTurnOnTheHomeTabAndItsEvent(_ manifest: JSONValue) {
        #expect(manifest["features"]?["app_home"]?["home_tab_enabled"] == true)
        #expect(manifest["settings"]?["event_subscriptions"]?["bot_events"]?.arrayValue?.contains("app_home_opened") == true)
    }
}
