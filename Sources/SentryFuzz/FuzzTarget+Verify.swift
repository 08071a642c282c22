import SentryCore

extension FuzzTarget {
    /// Slack request signing and the form body behind it. Input: `timestamp LF signature LF body`.
    static let verify = FuzzTarget(name: "verify") { bytes in
        // The example secret and clock of Slack's "Verifying requests" docs, so their test vector is a seed.
        let verifier = RequestVerifier(secret: "8f742231b10e8888abcd99yyyzzz85a5")
        let now: Int64 = 1_531_420_618
        let parts = bytes.split(separator: UInt8(ascii: "\n"), maxSplits: 2, omittingEmptySubsequences: false)
        let timestamp = parts.count > 0 ? String(decoding: parts[0], as: UTF8.self) : ""
        let signature = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : ""
        let body = parts.count > 2 ? Array(parts[2]) : []

        // nil for accepted: `Result<Void, _>` is not Equatable.
        func refusal(signature: String, body: [UInt8]) -> RequestVerifier.Failure? {
            switch verifier.verify(timestamp: timestamp, signature: signature, body: body, now: now) {
            case .success: nil
            case .failure(let failure): failure
            }
        }
        let result = refusal(signature: signature, body: body)
        if result == nil {
            // Only the signature of exactly this timestamp and body is accepted.
            FuzzCheck.expect(signature.lowercased() == verifier.sign(timestamp: timestamp, body: body), "accepted a signature that is not ours")
            FuzzCheck.expect(
                Int64(timestamp).map { abs($0 - now) <= RequestVerifier.toleranceSeconds } == true, "accepted timestamp \(timestamp)")
        }
        let timestampFailures: [RequestVerifier.Failure] = [.missingTimestamp, .malformedTimestamp, .staleTimestamp, .futureTimestamp]
        if let failure = result, timestampFailures.contains(failure) {
            // Checked before the signature: no signature can help.
            let honest = verifier.sign(timestamp: timestamp, body: body)
            FuzzCheck.expect(refusal(signature: honest, body: body) == failure, "timestamp check depends on the signature")
        } else {
            let honest = verifier.sign(timestamp: timestamp, body: body)
            FuzzCheck.expect(refusal(signature: honest, body: body) == nil, "refused our own signature")
            // One byte changed anywhere in the body, or one more byte, and the same signature is refused.
            var changed = body
            if changed.isEmpty { changed = [0] } else { changed[Int(changed[0]) % changed.count] ^= 0x01 }
            FuzzCheck.expect(refusal(signature: honest, body: changed) == .signatureMismatch, "accepted a signature for a different body")
            FuzzCheck.expect(
                refusal(signature: honest, body: body + [UInt8(ascii: "&")]) == .signatureMismatch, "accepted a signature for a longer body")
        }

        checkForm(body)
    }

    /// `FormBody.parse` against a plain model of form decoding, then an encode/parse round trip.
    private static func checkForm(_ body: [UInt8]) {
        let parsed = try? FormBody.parse(body)
        let model = FormModel.parse(body)
        FuzzCheck.expect(parsed == model, "FormBody.parse gave \(String(describing: parsed)), the model \(String(describing: model))")
        guard let parsed else { return }
        let fields = parsed.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let again = try? FormBody.parse(Array(FormBody.encode(fields).utf8))
        FuzzCheck.expect(again == parsed, "FormBody.encode then parse changed the fields")
        if let command = try? SlashCommand(form: parsed) {
            FuzzCheck.expect(!command.command.isEmpty && !command.userID.isEmpty, "slash command without command or user")
        }
    }
}
