import SentryCore

extension FuzzTarget {
    /// Interactivity payloads. Input: a form body starting `payload=`, or the payload JSON itself.
    static let interaction = FuzzTarget(name: "interaction") { bytes in
        let form: [String: String]
        if bytes.starts(with: "payload=".utf8) {
            guard let parsed = try? FormBody.parse(bytes) else { return }
            form = parsed
        } else {
            guard let text = String(validating: bytes, as: UTF8.self) else { return }
            form = ["payload": text]
        }
        let decoded = try? InteractionPayload.decode(form: form)
        // The same payload as compact JSON, sent through a form again, decodes to the same thing.
        guard let raw = form["payload"], let json = JSONValue.parse(Array(raw.utf8)) else {
            FuzzCheck.expect(decoded == nil, "decoded a payload that is not JSON")
            return
        }
        let resent = FormBody.encode([("payload", json.encoded())])
        let again = (try? FormBody.parse(Array(resent.utf8))).flatMap { try? InteractionPayload.decode(form: $0) }
        FuzzCheck.expect(again == decoded, "re-encoding the payload changed what it decodes to")
        if case .blockActions(let actions)? = decoded {
            FuzzCheck.expect(json["type"] == "block_actions" && json["user"]?["id"]?.stringValue == actions.userID, "block_actions without its user")
        }
    }
}
