import SentryCore

extension FuzzTarget {
    /// One target per engine adapter (`intake-alertmanager`, …), from the registry: a new engine gets its
    /// target with its seeds folder.
    static let intake: [FuzzTarget] = EngineRegistry.adapters.map { adapter in
        FuzzTarget(name: "intake-\(adapter.engine.id)") { bytes in IntakeCheck.run(adapter, bytes) }
    }
}

/// What every adapter must hold for any body: an error names its field or the engine, and every detection it
/// makes is one the detection webhook (§4.4) would take as it is, also after a `subject_from:` override.
enum IntakeCheck {
    static func run(_ adapter: any EngineAdapter.Type, _ bytes: [UInt8]) {
        let intake: EngineIntake
        do {
            intake = try adapter.decode(bytes)
        } catch {
            FuzzCheck.expect(!error.description.isEmpty, "an error without a message")
            if let path = error.path { FuzzCheck.expect(!path.isEmpty, "an error without its field: \(error)") }
            if case .wrongEngine(let hook, let other) = error {
                FuzzCheck.expect(hook == adapter.engine && other != adapter.engine, "wrong engine \(other) for \(hook)")
            }
            return
        }
        FuzzCheck.expect(intake.engine == adapter.engine, "intake of \(intake.engine), not \(adapter.engine)")
        FuzzCheck.expect(!intake.detections.isEmpty, "an intake without detections")
        for item in intake.detections {
            check(item.detection, adapter)
            // By bytes: a combining mark after the colon makes another Character of it.
            FuzzCheck.expect(item.engineAlertID.utf8.starts(with: (adapter.engine.id + ":").utf8), "engine alert id \(item.engineAlertID)")
            FuzzCheck.expect(item.fields.count <= 200, "\(item.fields.count) fields")
            // Each overridable subject field from the first field path, then from the last.
            let paths = item.fields.keys.sorted()
            if let first = paths.first, let last = paths.last {
                for path in [first, last] {
                    let override = Dictionary(uniqueKeysWithValues: SubjectValue.overridableFields.map { ($0, path) })
                    check(item.applying(subjectFrom: override), adapter)
                }
            }
        }
        // The same body decoded again gives the same intake (no hidden state, no clock).
        FuzzCheck.expect((try? adapter.decode(bytes)) == intake, "decoding the same body twice differs")
    }

    static func check(_ detection: Detection, _ adapter: any EngineAdapter.Type) {
        FuzzCheck.expect(!detection.id.isEmpty && detection.id.unicodeScalars.count <= Detection.maxIDLength, "id \(detection.id.prefix(80))")
        FuzzCheck.expect(detection.detection.hasPrefix(adapter.engine.detectionPrefix + "."), "detection \(detection.detection)")
        FuzzCheck.expect(!detection.subject.isEmpty, "no subject")
        if let link = detection.link { FuzzCheck.expect(IntakeText.link(link) == link, "link \(link.prefix(80))") }
        if let evidence = detection.evidence { FuzzCheck.expect(evidence.encoded().utf8.count <= 8_000, "evidence too large") }

        var subject: [String: JSONValue] = [:]
        for field in Subject.fieldNames { subject[field] = detection.subject[field: field].map(JSONValue.string) }
        var body: [String: JSONValue] = ["id": .string(detection.id), "detection": .string(detection.detection), "subject": .object(subject)]
        body["severity"] = detection.severity.map { .string($0.rawValue) }
        body["title"] = detection.title.map(JSONValue.string)
        body["summary"] = detection.summary.map(JSONValue.string)
        body["evidence"] = detection.evidence
        do {
            var again = try Detection.decodeWebhook(Array(JSONValue.object(body).encoded().utf8))
            again.occurredAt = detection.occurredAt
            again.link = detection.link
            FuzzCheck.expect(again == detection, "the detection webhook reads this detection differently: \(detection.id.prefix(80))")
        } catch {
            FuzzCheck.expect(false, "the detection webhook refuses an adapter's detection: \(error)")
        }
    }
}
