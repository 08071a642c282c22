import Foundation

extension Alert {
    /// The alert's stored body: the fields `StreamingJSONEncoder.encode(self)` writes, under the same keys and in
    /// the same order, with nil optionals left out and dates as seconds since 1970, but written field by field.
    /// Through `Codable` every field went through a generic keyed container and a type check at run time; the
    /// body is written on every transition, on the store's writer, and was a tenth of a webhook's CPU. The stored
    /// decoder reads it back as the same alert (`CoreAlertStoredJSONTests` checks that, and that every stored
    /// property of the types written here is written). Evidence is written as `JSONValue.encoded()` writes it:
    /// object keys in byte order, and a number that is not finite as `null` (where `Codable` threw and the alert
    /// could not be stored at all; JSON has no such number, and no parsed detection carries one). The rarer parts
    /// (containments, snooze, the engine's resolution, the confirmation) go through `StreamingJSONEncoder`. A date
    /// that is not finite throws, as `JSONEncoder` does.
    public func storedJSON() throws -> [UInt8] {
        var object = JSONFields()
        object.string("id", id)
        object.string("playbookID", playbookID)
        object.string("detection", detection)
        object.string("severity", severity.rawValue)
        object.string("title", title)
        object.string("summary", summary)
        object.object("subject") { subject.write(into: &$0) }
        if let evidence {
            object.key("evidence")
            evidence.write(into: &object.out)
        }
        object.string("channel", channel)
        object.string("status", status.rawValue)
        try object.date("createdAt", createdAt)
        try object.date("updatedAt", updatedAt)
        try object.date("lastOccurredAt", lastOccurredAt)
        object.int("occurrences", occurrences)
        object.string("groupKey", groupKey)
        try object.date("groupUntil", groupUntil)
        object.string("acknowledgedBy", acknowledgedBy)
        try object.date("acknowledgedAt", acknowledgedAt)
        object.string("closedBy", closedBy)
        try object.date("closedAt", closedAt)
        object.int("escalations", escalations)
        if let message {
            object.object("message") { fields in
                fields.string("channel", message.channel)
                fields.string("ts", message.ts)
            }
        }
        object.string("postFailure", postFailure)
        try object.object("policy") { try policy.write(into: &$0) }
        if containments.isEmpty {
            object.key("containments")
            object.out.append(contentsOf: "[]".utf8)
        } else {
            try object.encoded("containments", containments)
        }
        object.bool("manual", manual)
        object.string("link", link)
        try object.encoded("snooze", snooze)
        object.strings("engineFiring", engineFiring)
        try object.encoded("engineResolution", engineResolution)
        object.string("resolvedByEngine", resolvedByEngine)
        try object.encoded("confirmation", confirmation)
        return object.finish()
    }
}

extension AlertEffect {
    /// The effect as the outbox keeps it: the document `StreamingJSONEncoder.encode(self)` writes (the case's name
    /// holding its labelled values, a nil one left out), written directly for the effects every alert and click
    /// queues, and through the streaming encoder for the rest.
    public func storedJSON() throws -> [UInt8] {
        switch self {
        case .postAlert: return Array(#"{"postAlert":{}}"#.utf8)
        case .updateMessage: return Array(#"{"updateMessage":{}}"#.utf8)
        case .updateQuestion: return Array(#"{"updateQuestion":{}}"#.utf8)
        case .replyInThread(let text):
            return JSONFields.wrapping("replyInThread") { $0.string("text", text) }
        case .tellUser(let userID, let text, let responseURL):
            return JSONFields.wrapping("tellUser") { values in
                values.string("userID", userID)
                values.string("text", text)
                values.string("responseURL", responseURL)
            }
        case .executeContainment(let id):
            return JSONFields.wrapping("executeContainment") { $0.string("id", id) }
        case .releaseContainment(let id):
            return JSONFields.wrapping("releaseContainment") { $0.string("id", id) }
        case .askSubject(let userID):
            return JSONFields.wrapping("askSubject") { $0.string("userID", userID) }
        case .postNotice, .postReport, .scheduleTimer, .cancelTimer:
            return try StreamingJSONEncoder.encode(self)
        }
    }
}

extension Subject {
    func write(into object: inout JSONFields) {
        object.string("slack_user_id", slackUserID)
        object.string("ip", ip)
        object.string("meraki_network_id", merakiNetworkID)
        object.string("meraki_serial", merakiSerial)
        object.string("host", host)
        object.string("email", email)
        object.string("account", account)
        object.string("rule", rule)
    }
}

extension AlertPolicy {
    func write(into object: inout JSONFields) throws {
        object.int("ackTimeout", ackTimeout)
        if let escalation {
            object.object("escalation") { fields in
                fields.strings("mention", escalation.mention)
                fields.string("channel", escalation.channel)
                fields.int("repeatCount", escalation.repeatCount)
            }
        }
        try object.array("actions", actions) { fields, action in
            fields.string("kind", action.kind.rawValue)
            fields.int("approvals", action.approvals)
            fields.int("ttl", action.ttl)
            try fields.encoded("approvedOnly", action.approvedOnly)
        }
        object.bool("autoResolve", autoResolve)
        try object.encoded("confirm", confirm)
    }
}

/// The members of one JSON object being written: each call adds one (or nothing, for a nil optional), and
/// `finish` closes the object. Keys are ASCII identifiers, written as they are.
struct JSONFields {
    var out: [UInt8] = []
    private var empty = true

    init(capacity: Int = 1024) {
        out.reserveCapacity(capacity)
    }

    /// Opens the object (or writes the comma after the last member), then `"name":`.
    mutating func key(_ name: StaticString) {
        out.append(empty ? UInt8(ascii: "{") : UInt8(ascii: ","))
        empty = false
        out.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: "\":".utf8)
    }

    /// `{"name":{…}}`, the inner object's members written by `members` (an enum case with its values).
    static func wrapping(_ name: StaticString, _ members: (inout JSONFields) -> Void) -> [UInt8] {
        var outer = JSONFields(capacity: 128)
        outer.object(name, members)
        return outer.finish()
    }

    mutating func finish() -> [UInt8] {
        out.append(contentsOf: empty ? "{}".utf8 : "}".utf8)
        return out
    }

    mutating func string(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONValue.writeString(value, into: &out)
    }

    mutating func int(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        out.append(contentsOf: String(value).utf8)
    }

    mutating func bool(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        out.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func date(_ name: StaticString, _ value: Date?) throws {
        guard let value else { return }
        let seconds = value.timeIntervalSince1970
        guard seconds.isFinite else {
            // The seconds, not the date: describing a date that is not finite traps in Foundation.
            throw EncodingError.invalidValue(
                seconds, EncodingError.Context(codingPath: [], debugDescription: "\(name): \(seconds) is not a JSON number"))
        }
        key(name)
        JSONValue.writeFiniteNumber(seconds, into: &out)
    }

    mutating func strings(_ name: StaticString, _ values: [String]?) {
        guard let values else { return }
        key(name)
        out.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONValue.writeString(value, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A nested object, its members written by `members`.
    mutating func object(_ name: StaticString, _ members: (inout JSONFields) throws -> Void) rethrows {
        key(name)
        var nested = JSONFields(sharing: &out)
        try members(&nested)
        out = nested.finish()
    }

    /// An array of objects, each written by `members`.
    mutating func array<Element>(_ name: StaticString, _ elements: [Element], _ members: (inout JSONFields, Element) throws -> Void) rethrows {
        key(name)
        out.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            var nested = JSONFields(sharing: &out)
            try members(&nested, element)
            out = nested.finish()
        }
        out.append(UInt8(ascii: "]"))
    }

    /// Any other value, through `StreamingJSONEncoder`.
    mutating func encoded<T: Encodable>(_ name: StaticString, _ value: T?) throws {
        guard let value else { return }
        let bytes = try StreamingJSONEncoder.encode(value)
        key(name)
        out.append(contentsOf: bytes)
    }

    /// A nested object that writes on into the parent's bytes (taken from it, so they are not copied).
    private init(sharing parent: inout [UInt8]) {
        out = []
        swap(&out, &parent)
    }
}
