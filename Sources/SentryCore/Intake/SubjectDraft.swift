import Foundation

/// The subject an adapter is building: the first valid value offered for each field is kept, so adapters offer
/// the documented places in order of preference; with nothing at all, the subject is the engine's rule.
struct SubjectDraft {
    private(set) var subject = Subject()

    mutating func ip(_ text: String?) {
        guard subject.ip == nil, let text else { return }
        subject.ip = SubjectValue.endpoint(text).ip
    }

    /// An `instance`-like endpoint: its address in `ip`, or its name in `host`.
    mutating func endpoint(_ text: String?) {
        guard let text else { return }
        let (ip, host) = SubjectValue.endpoint(text)
        if subject.ip == nil { subject.ip = ip }
        if subject.host == nil, ip == nil { subject.host = host }
    }

    mutating func host(_ text: String?) {
        guard subject.host == nil, let text else { return }
        subject.host = SubjectValue.host(text)
    }

    mutating func email(_ text: String?) {
        guard subject.email == nil, let text else { return }
        subject.email = SubjectValue.email(text)
    }

    mutating func account(_ text: String?) {
        guard subject.account == nil, let text else { return }
        subject.account = SubjectValue.account(text)
    }

    /// A user name or an email address, each to its field.
    mutating func user(_ text: String?) {
        guard let text else { return }
        let (email, account) = SubjectValue.user(text)
        if subject.email == nil, let email { subject.email = email }
        if subject.account == nil, let account { subject.account = account }
    }

    /// The subject, or `rule: <detection id>` when the engine named no one and nothing.
    func finished(detection: String) -> Subject {
        subject.isEmpty ? Subject(rule: detection) : subject
    }
}

extension EngineDetection {
    /// The detection with a playbook's `subject_from:` applied: each named field takes the value at its path,
    /// or none when this body has nothing there (the adapter's guess is not kept for an overridden field).
    public func applying(subjectFrom: [String: String]) -> Detection {
        guard !subjectFrom.isEmpty else { return detection }
        var subject = detection.subject
        subject.rule = nil
        for (field, path) in subjectFrom {
            subject[field: field] = fields[path].flatMap { SubjectValue.normalised(field: field, $0) }
        }
        var result = detection
        result.subject = subject.isEmpty ? Subject(rule: detection.detection) : subject
        return result
    }
}

/// Flat `path → text` views of engine JSON, for `EngineDetection.fields`.
enum IntakeFields {
    /// Every string, number and boolean under `value`, at dotted paths below `prefix`; arrays by index
    /// (`tags.0`), and the first element also at the array's own path.
    static func flatten(_ value: JSONValue, prefix: String, into out: inout [String: String], depth: Int = 4) {
        if let text = IntakeText.scalar(value) {
            if !prefix.isEmpty, out[prefix] == nil { out[prefix] = text }
            return
        }
        guard depth > 0, out.count < IntakeText.maxFields else { return }
        switch value {
        case .object(let object):
            for key in object.keys.sorted() {
                flatten(object[key]!, prefix: prefix.isEmpty ? key : prefix + "." + key, into: &out, depth: depth - 1)
            }
        case .array(let items):
            if let first = items.first, let text = IntakeText.scalar(first), !prefix.isEmpty, out[prefix] == nil { out[prefix] = text }
            for (index, item) in items.prefix(10).enumerated() {
                flatten(item, prefix: prefix + ".\(index)", into: &out, depth: depth - 1)
            }
        default:
            break
        }
    }

    /// Each value under `prefix.<key>`.
    static func prefixed(_ map: [String: String], _ prefix: String) -> [String: String] {
        Dictionary(uniqueKeysWithValues: map.map { (prefix + "." + $0.key, $0.value) })
    }
}
