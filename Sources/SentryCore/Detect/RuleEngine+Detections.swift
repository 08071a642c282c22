import Foundation

extension RuleEngine {
    /// The alert subject a counting key stands for.
    static func subject(_ key: String, _ event: SecurityEvent) -> Subject {
        if key.hasPrefix("ip=") { return Subject(ip: String(key.dropFirst(3))) }
        if key.hasPrefix("user=") { return Subject(slackUserID: String(key.dropFirst(5))) }
        return Subject(merakiNetworkID: event.networkID, merakiSerial: event.serial)
    }

    func fire(
        _ rule: Rule, key: String, event: SecurityEvent, count: Int, first: Double, last: Double, period: Int,
        state: inout State, outcome: inout Outcome
    ) {
        let firedKey: String
        if rule.kind == .publicIPChange {
            // Uplink changes are each news (two interfaces can change in one report): keyed by the event itself.
            firedKey = "\(rule.detection)|\(key)|\(event.id)"
            guard !state.fired.contains(firedKey) else { return }
        } else {
            // One detection per episode: while the count stays above the threshold within the rule's window (or
            // the grouping window, if longer) of the last detection, nothing new fires.
            let head = "\(rule.detection)|\(key)"
            if let previous = state.lastFired[head], abs(last - previous) < Self.episode(rule) { return }
            firedKey = "\(head)|\(Int(last))"
        }
        let subject = Self.subject(key, event)
        state.recordFired(firedKey)
        outcome.fired.append(firedKey)
        let (title, summary) = describe(rule, subject: subject, event: event, count: count)
        var evidence: [String: JSONValue] = [
            "count": .number(Double(count)), "first": .string(Timestamp.iso8601(Date(timeIntervalSince1970: first))),
            "last": .string(Timestamp.iso8601(Date(timeIntervalSince1970: last))), "source": .string(event.source.rawValue),
        ]
        if rule.window > 0, rule.kind != .publicIPChange {
            evidence["window"] = .string(rule.kind == .maxDailyDownload ? "UTC day" : DurationText.format(rule.window))
            evidence["threshold"] = .number(Double(rule.threshold))
        }
        if let name = event.fileName { evidence["last_file"] = .string(name) }
        if let detail = event.detail { evidence["detail"] = .string(detail) }
        if let previous = event.previousPublicIP { evidence["previous_public_ip"] = .string(previous) }
        if let current = event.publicIP { evidence["public_ip"] = .string(current) }
        if let interface = event.interface { evidence["interface"] = .string(interface) }
        if let name = event.deviceName { evidence["device_name"] = .string(name) }
        // What moved, so approved-only knows a failover to cellular from a public IP change.
        if rule.kind == .publicIPChange { evidence["change"] = .string(event.action) }
        let id = rule.kind == .publicIPChange ? "\(rule.detection):\(event.source.rawValue):\(event.id)" : "\(rule.detection):\(key):\(Int(last))"
        outcome.detections.append(
            Detection(
                id: id, detection: rule.detection, severity: nil, title: title, summary: summary, subject: subject,
                evidence: .object(evidence), occurredAt: Date(timeIntervalSince1970: last)))
    }

    func describe(_ rule: Rule, subject: Subject, event: SecurityEvent, count: Int) -> (String, String) {
        let user = subject.slackUserID ?? "?"
        switch rule.kind {
        case .failedLoginsByIP:
            return (
                "\(count) failed Slack logins from \(subject.ip ?? "?")",
                "\(count) failed logins from \(subject.ip ?? "?") within \(DurationText.format(rule.window)) (threshold \(rule.threshold))."
            )
        case .maxDailyDownload:
            return ("\(user) downloaded \(count) files today", "\(user) downloaded \(count) files in one UTC day (threshold \(rule.threshold)).")
        case .sensitiveFileDownloads:
            return (
                "\(user) downloaded \(count) sensitive files",
                "\(user) downloaded \(count) files matching the sensitive patterns within \(DurationText.format(rule.window)) (threshold \(rule.threshold))."
            )
        case .filenameKeywords:
            return (
                "\(user): \(count) files with watched keywords",
                "\(count) files whose names carry watched keywords, by \(user), within \(DurationText.format(rule.window)) (threshold \(rule.threshold))."
            )
        case .publicIPChange:
            let device = event.serial ?? "?"
            switch event.action {
            case "uplink_failover":
                return (
                    "\(device) failed over to \(event.interface ?? "cellular")",
                    "The active uplink of \(device) moved to \(event.interface ?? "cellular")."
                )
            case "uplink_recovered":
                return (
                    "\(device) is back on \(event.interface ?? "wired")",
                    "The active uplink of \(device) moved back to \(event.interface ?? "a wired uplink")."
                )
            case "cellular_up", "cellular_down": return ("\(device): \(event.detail ?? event.action)", event.detail ?? event.action)
            default:
                return (
                    "\(device) \(event.interface ?? "uplink") public IP changed",
                    "Public IP of \(device) \(event.interface ?? "uplink") changed from \(event.previousPublicIP ?? "?") to \(event.publicIP ?? "?")."
                )
            }
        }
    }
}
