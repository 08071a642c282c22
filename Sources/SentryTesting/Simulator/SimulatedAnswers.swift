import Hummingbird
import NIOCore

/// Answers the Slack simulators share: Slack's 429 shape with Retry-After.
enum SimulatedAnswers {
    static func rateLimited(retryAfter seconds: Int) -> Response {
        Response(
            status: .tooManyRequests, headers: [.retryAfter: "\(seconds)", .contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"ok":false,"error":"ratelimited"}"#)))
    }
}
