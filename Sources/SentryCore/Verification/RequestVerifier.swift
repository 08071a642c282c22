/// Checks Slack-style request signatures: `v0=hex(HMAC-SHA256(key, "v0:" + timestamp + ":" + body))`.
///
/// Used for Slack callbacks (key `SLACK_SIGNING_SECRET`) and for signed detection webhooks
/// (key `SENTRY_WEBHOOK_SECRET`).
public struct RequestVerifier: Sendable {
    public enum Failure: String, Error, Equatable, Sendable, CaseIterable {
        case missingTimestamp = "missing_timestamp"
        case malformedTimestamp = "malformed_timestamp"
        case staleTimestamp = "stale_timestamp"
        case futureTimestamp = "future_timestamp"
        case missingSignature = "missing_signature"
        case malformedSignature = "malformed_signature"
        case signatureMismatch = "signature_mismatch"
    }

    /// The largest body we hash; larger bodies are refused before verification.
    public static let maxBodyBytes = 64 * 1024
    /// How far a timestamp may be from now, in either direction.
    public static let toleranceSeconds: Int64 = 300

    private let key: [UInt8]

    public init(secret: String) {
        self.key = Array(secret.utf8)
    }

    public func verify(timestamp: String?, signature: String?, body: [UInt8], now: Int64) -> Result<Void, Failure> {
        guard let timestamp, !timestamp.isEmpty else { return .failure(.missingTimestamp) }
        guard timestamp.utf8.count <= 12, timestamp.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let seconds = Int64(timestamp)
        else { return .failure(.malformedTimestamp) }
        if now - seconds > Self.toleranceSeconds { return .failure(.staleTimestamp) }
        if seconds - now > Self.toleranceSeconds { return .failure(.futureTimestamp) }
        guard let signature, !signature.isEmpty else { return .failure(.missingSignature) }
        guard signature.hasPrefix("v0="), let given = Crypto.unhex(signature.dropFirst(3)), given.count == 32 else {
            return .failure(.malformedSignature)
        }
        var message = [UInt8]()
        message.reserveCapacity(body.count + timestamp.utf8.count + 4)
        message.append(contentsOf: "v0:".utf8)
        message.append(contentsOf: timestamp.utf8)
        message.append(UInt8(ascii: ":"))
        message.append(contentsOf: body)
        let expected = Crypto.hmacSHA256(key: key, message: message)
        return Crypto.constantTimeEqual(expected, given) ? .success(()) : .failure(.signatureMismatch)
    }

    /// The header value a sender would compute; used by the simulators, the demo and tests.
    public func sign(timestamp: String, body: [UInt8]) -> String {
        var message = Array("v0:\(timestamp):".utf8)
        message.append(contentsOf: body)
        return "v0=" + Crypto.hex(Crypto.hmacSHA256(key: key, message: message))
    }
}
