import Foundation
import SentryConnectors
import SentryCore
import Testing

extension Connectors {
    /// Every connector error has a class, and a Slack user reads a sentence, never the service's own words.
    @Suite struct ConnectorErrorClassTests {
        struct Row: Sendable, CustomTestStringConvertible {
            var error: any ConnectorError & Sendable
            var failure: FailureClass
            var sentence: String
            /// Text of the error that must not reach a Slack user.
            var detail: String
            var testDescription: String { "\(error)" }
        }

        static let rows: [Row] = [
            Row(
                error: SlackError.api(method: "chat.postMessage", code: "channel_not_found"), failure: .permanent,
                sentence: "Slack refused the request", detail: "channel_not_found"),
            Row(
                error: SlackError.api(method: "chat.update", code: "internal_error"), failure: .transient,
                sentence: "Slack could not be reached or failed on its side", detail: "internal_error"),
            Row(
                error: SlackError.rateLimited(method: "chat.postMessage", retryAfter: .seconds(30)), failure: .rateLimited(retryAfter: .seconds(30)),
                sentence: "Slack kept rate-limiting the request", detail: "chat.postMessage"),
            Row(
                error: SlackError.http(method: "chat.update", status: 503), failure: .transient,
                sentence: "Slack could not be reached or failed on its side", detail: "503"),
            Row(
                error: SlackError.transport(method: "views.open", .connectionFailed("Could not resolve host: slack.com")), failure: .transient,
                sentence: "Slack could not be reached or failed on its side", detail: "resolve host"),
            Row(
                error: MerakiError.http(status: 400, errors: ["Invalid destination CIDR"]), failure: .permanent,
                sentence: "Meraki refused the request", detail: "Invalid destination"),
            Row(
                error: MerakiError.http(status: 502, errors: []), failure: .transient,
                sentence: "Meraki could not be reached or failed on its side", detail: "502"),
            Row(
                error: MerakiError.rateLimited(retryAfter: .seconds(120)), failure: .rateLimited(retryAfter: .seconds(120)),
                sentence: "Meraki kept rate-limiting the request", detail: "retry after"),
            Row(
                error: SlackAdminError.scim(status: 403, detail: "cannot deactivate the primary owner"), failure: .permanent,
                sentence: "Slack refused the request", detail: "primary owner"),
            Row(
                error: SlackAdminError.scim(status: 500, detail: "oops"), failure: .transient,
                sentence: "Slack could not be reached or failed on its side", detail: "oops"),
            Row(
                error: SlackAuditError.api(code: "missing_scope", status: 403), failure: .permanent,
                sentence: "Slack audit logs refused the request", detail: "missing_scope"),
        ]

        @Test(arguments: rows) func classAndSentence(_ row: Row) {
            #expect(row.error.failureClass == row.failure)
            #expect(FailureClass(of: row.error) == row.failure)
            #expect(row.error.userFacing == row.sentence)
            #expect(FailureClass.userFacing(row.error) == row.sentence)
            #expect("\(row.error)".contains(row.detail), "the detail is in the error's own text, for the log")
            #expect(!row.sentence.contains(row.detail))
        }
    }
}
