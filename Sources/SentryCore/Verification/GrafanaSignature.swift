import Foundation

/// Grafana Alerting's webhook signature (contact point `hmacConfig`): lowercase hex of HMAC-SHA256 over the raw
/// body, or over `"<unix seconds>:" + body` when the contact point also sends a timestamp header. The key is
/// `SENTRY_WEBHOOK_SECRET`; a timestamp, when present, must be within `RequestVerifier.toleranceSeconds`.
public struct GrafanaSignature: Sendable {
    /// Grafana's default signature header.
    public static let header = "X-Grafana-Alerting-Signature"
    /// The timestamp header the README tells users to configure (Grafana has no default name).
    public static let timestampHeader = "X-Grafana-Alerting-Timestamp"

    public enum Failure: String, Error, Equatable, Sendable, CaseIterable {
        case malformedTimestamp = "grafana_malformed_timestamp"
        case staleTimestamp = "grafana_stale_timestamp"
        case futureTimestamp = "grafana_future_timestamp"
        case malformedSignature = "grafana_malformed_signature"
        case signatureMismatch = "grafana_signature_mismatch"
    }

    private let key: [UInt8]

    public init(secret: String) {
        key = Array(secret.utf8)
    }

    /// nil when the signature holds. Without a timestamp there is no replay protection: Grafana's own choice.
    public func verify(signature: String, timestamp: String?, body: [UInt8], now: Int64) -> Failure? {
        if let timestamp {
            guard !timestamp.isEmpty, timestamp.utf8.count <= 12, timestamp.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let seconds = Int64(timestamp)
            else { return .malformedTimestamp }
            if now - seconds > RequestVerifier.toleranceSeconds { return .staleTimestamp }
            if seconds - now > RequestVerifier.toleranceSeconds { return .futureTimestamp }
        }
        let text = signature.trimmingCharacters(in: .whitespaces)
        guard text.utf8.count == 64, let given = Crypto.unhex(Substring(text)), given.count == 32 else { return .malformedSignature }
        return Crypto.constantTimeEqual(digest(timestamp: timestamp, body: body), given) ? nil : .signatureMismatch
    }

    /// The header value Grafana would send; for the simulators, the demo and tests.
    public func sign(timestamp: String?, body: [UInt8]) -> String {
        Crypto.hex(digest(timestamp: timestamp, body: body))
    }

    private func digest(timestamp: String?, body: [UInt8]) -> [UInt8] {
        var message: [UInt8] = []
        message.reserveCapacity(body.count + 16)
        if let timestamp {
            message.append(contentsOf: timestamp.utf8)
            message.append(UInt8(ascii: ":"))
        }
        message.append(contentsOf: body)
        return Crypto.hmacSHA256(key: key, message: message)
    }
}
