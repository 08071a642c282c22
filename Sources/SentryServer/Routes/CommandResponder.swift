import Foundation
import SentryConnectors
import SentryCore
import SentryEngine
import SentryStore

/// Answers `/sentry …` within Slack's 3 seconds, as an ephemeral message.
struct CommandResponder {
    let context: SentryContext

    static let usage = """
        *Sentry* — incident response in Slack
        • `/sentry help` — this message
        • `/sentry alerts` — open and acknowledged alerts
        • `/sentry alert ID` — one alert, for example `/sentry alert A-7K3M9Q2X`
        • `/sentry uplinks [network name | serial]` — Meraki appliance uplinks: status, IP, public IP
        • `/sentry block-ip IP [TTL]` — block an IP on the Meraki networks (approval by another responder; TTL like 4h)
        • `/sentry unblock-ip IP` — lift a block now
        • `/sentry snooze list` — snoozed alerts; `/sentry unsnooze ID` — end a snooze now
        • `/sentry stats [7d|30d]` — alerts per playbook, times to acknowledge and resolve, containments, noisiest detections
        Alerts arrive in the alert channel with buttons: *Acknowledge*, *Resolve*, *Dismiss*, *Snooze…*.
        """

    func answer(_ command: SlashCommand) async throws -> JSONValue {
        let words = command.text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        switch words.first?.lowercased() {
        case nil, "help":
            return ephemeral(Self.usage)
        case "alerts":
            return ephemeral(try await alertsList())
        case "alert":
            guard words.count == 2 else { return ephemeral("Usage: `/sentry alert ID`, for example `/sentry alert A-7K3M9Q2X`.") }
            return ephemeral(try await alertDetail(words[1].uppercased()))
        case "block-ip":
            guard (2...3).contains(words.count) else {
                return ephemeral("Usage: `/sentry block-ip IP [TTL]`, for example `/sentry block-ip 203.0.113.7 4h`.")
            }
            return ephemeral(try await blockIP(words[1], ttl: words.count == 3 ? words[2] : nil, command: command))
        case "unblock-ip":
            guard words.count == 2 else { return ephemeral("Usage: `/sentry unblock-ip IP`, for example `/sentry unblock-ip 203.0.113.7`.") }
            return ephemeral(try await unblockIP(words[1], command: command))
        case "uplinks":
            return await uplinks(filter: words.dropFirst().joined(separator: " "), command: command)
        case "snooze":
            guard words.count == 2, words[1].lowercased() == "list" else { return ephemeral(Self.snoozeUsage) }
            return ephemeral(try await snoozeList(command: command))
        case "unsnooze":
            guard words.count == 2 else { return ephemeral(Self.snoozeUsage) }
            return ephemeral(try await unsnooze(words[1].uppercased(), command: command))
        case "stats":
            return try await stats(words, command: command)
        default:
            let word = AlertMessage.escape(String(words[0].prefix(40)))
            return ephemeral("Sentry does not know `\(word)`.\n\n" + Self.usage)
        }
    }

    func alertsList() async throws -> String {
        let alerts = try await context.store.alerts(statuses: [.open, .acknowledged], limit: 21)
        guard !alerts.isEmpty else { return ":white_check_mark: No open alerts." }
        var lines = alerts.prefix(20).map { alert in
            "\(alert.severity.emoji) `\(alert.id)` *\(AlertMessage.escape(alert.title))* — \(AlertMessage.statusLine(alert))"
        }
        if alerts.count > 20 { lines.append("…and more; the oldest are not shown.") }
        return "*Open alerts*\n" + lines.joined(separator: "\n")
    }

    func alertDetail(_ id: String) async throws -> String {
        guard AlertID.isWellFormed(id), let alert = try await context.store.alert(id: id) else {
            return "No alert `\(AlertMessage.escape(String(id.prefix(20))))`. `/sentry alerts` lists the open ones."
        }
        var lines = [
            "\(alert.severity.emoji) *\(AlertMessage.escape(alert.title))* `\(alert.id)`",
            AlertMessage.statusLine(alert),
            "Detection `\(alert.detection)`, playbook `\(alert.playbookID)`, seen \(alert.occurrences)×, opened \(SlackDate.format(alert.createdAt))",
        ]
        if let summary = alert.summary { lines.append(AlertMessage.escape(summary)) }
        for item in alert.containments.suffix(20) {
            lines.append("`\(item.id)` " + AlertMessage.containmentLine(item).replacingOccurrences(of: "\n", with: " — "))
        }
        if let message = alert.message { lines.append("Message in <#\(message.channel)>") }
        return lines.joined(separator: "\n")
    }

    func blockIP(_ text: String, ttl ttlText: String?, command: SlashCommand) async throws -> String {
        let configuration = context.configuration
        let target: String
        let note: String
        do { (target, note) = try ContainmentTarget.validate(kind: .blockIP, target: text) } catch { return "Cannot block: \(error.description)." }
        let offering = context.catalog.playbooks.compactMap { $0.actions.first { $0.kind == .blockIP } }
        var ttl = min(max(offering.map(\.ttl).max() ?? 14_400, configuration.minTTL), configuration.maxTTL)
        if let ttlText {
            guard let parsed = DurationText.parse(ttlText) else {
                return "`\(AlertMessage.escape(String(ttlText.prefix(20))))` is not a duration; write it like 90s, 15m, 4h or 7d."
            }
            guard (configuration.minTTL...configuration.maxTTL).contains(parsed) else {
                return "The TTL must be between \(DurationText.format(configuration.minTTL)) and \(DurationText.format(configuration.maxTTL))."
            }
            ttl = parsed
        }
        let now = context.clock.now()
        if let missing = SlackController.notConfigured(.blockIP, configuration) {
            return "\(missing). Nothing was changed."
        }
        guard await context.responders.mayContain(userID: command.userID, playbookResponders: []) else {
            try await context.engine.recordAudit(
                AuditRecord(action: "containment.refused", actor: command.userID, detail: "block_ip \(target) via /sentry: not a responder"), now: now
            )
            return "Sorry, only responders can request containment. Nothing was changed."
        }
        guard let channel = configuration.slackAlertChannel ?? context.catalog.playbooks.first(where: { $0.channel != nil })?.channel else {
            return "No alert channel: set SLACK_ALERT_CHANNEL."
        }
        let approvals = offering.map(\.approvals).max() ?? 1
        let containmentID = ContainmentID.make()
        let playbook = Playbook(
            id: "manual-containment", title: "Manual block of \(target)", detection: "sentry.manual_block", severity: .high,
            actions: [ContainmentAction(kind: .blockIP, approvals: approvals, ttl: ttl)])
        let detection = Detection(
            id: "manual:\(containmentID)", detection: "sentry.manual_block", title: "Manual block of \(target)",
            summary: "Requested by \(command.userID) with /sentry block-ip.", subject: Subject(ip: target))
        let request = ContainmentRequest(
            id: containmentID, kind: .blockIP, target: target, ttl: ttl, reason: "manual: /sentry block-ip by \(command.userID)",
            requestedBy: command.userID, mayContain: true, approvalsRequired: approvals, dryRun: configuration.dryRun)
        let alertID = AlertID.make()
        let transition = try await context.engine.createManual(
            detection, playbook: playbook, channel: channel, newAlertID: alertID, request: request, now: now)
        context.wake()
        if case .applied = transition.outcome {
            let waiting =
                approvals == 0
                ? "It runs now." : "It needs \(approvals) approval\(approvals == 1 ? "" : "s") from another responder in <#\(channel)>."
            return
                "Requested Block IP `\(target)` for \(DurationText.format(ttl)) as `\(containmentID)` on alert `\(alertID)`. \(waiting)\(note.isEmpty ? "" : "\n" + note)\(configuration.dryRun ? "\n_Dry run: recorded and shown, never executed._" : "")"
        }
        switch transition.outcome {
        case .ignored(let why), .rejected(let why): return "Nothing was requested: \(why)."
        case .applied: return "Requested."
        }
    }

    func unblockIP(_ text: String, command: SlashCommand) async throws -> String {
        let target: String
        do { target = try ContainmentTarget.validate(kind: .blockIP, target: text).target } catch { return "Cannot unblock: \(error.description)." }
        guard await context.responders.mayContain(userID: command.userID, playbookResponders: []) else {
            try await context.engine.recordAudit(
                AuditRecord(action: "containment.refused", actor: command.userID, detail: "unblock_ip \(target) via /sentry: not a responder"),
                now: context.clock.now())
            return "Sorry, only responders can lift containment. Nothing was changed."
        }
        let live = try await context.store.liveContainments(kind: .blockIP, target: target)
        guard !live.isEmpty else { return "No block of `\(target)` is active or waiting." }
        var lines: [String] = []
        for item in live {
            // Pending requests are withdrawn; active or failed ones are rolled back.
            let action: ContainmentDecision.Action = item.status == Containment.Status.awaitingApproval.rawValue ? .reject : .unblock
            let decision = ContainmentDecision(containmentID: item.containmentID, action: action, userID: command.userID, mayContain: true)
            let transition = try await context.engine.apply(.containmentDecided(decision), to: item.alertID, now: context.clock.now())
            switch transition.outcome {
            case .applied:
                lines.append(
                    action == .reject
                        ? "Withdrew the pending request `\(item.containmentID)`."
                        : "Lifting `\(item.containmentID)` now; the thread on alert `\(item.alertID)` will say when it is done.")
            case .ignored(let why), .rejected(let why): lines.append("`\(item.containmentID)`: \(why).")
            }
        }
        context.wake()
        return lines.joined(separator: "\n")
    }

    /// How long a slash command waits for Meraki before answering "working on it" and following up.
    static let uplinksDeadline: Duration = .seconds(2)

    func uplinks(filter: String, command: SlashCommand) async -> JSONValue {
        guard let lookup = context.uplinks else {
            return ephemeral("Meraki is not configured: set MERAKI_API_KEY and MERAKI_ORG_ID to see uplinks.")
        }
        let fetch = Task { [logger = context.logger] () -> Result<[UplinkRow], any Error> in
            do { return .success(try await lookup.uplinkRows()) } catch {
                logger.warning("uplink lookup failed", metadata: ["error": "\(error)"])
                return .failure(error)
            }
        }
        let quick = await value(of: fetch, within: Self.uplinksDeadline)
        if let quick {
            let messages = Self.uplinkMessages(quick, filter: filter)
            followUp(Array(messages.dropFirst()), command: command)
            return messages.first ?? ephemeral("No uplinks.")
        }
        // Meraki is slow or rate limited: answer now, follow up through response_url when it answers.
        let slack = context.slack
        let logger = context.logger
        Task {
            let messages = Self.uplinkMessages(await fetch.value, filter: filter)
            guard let url = command.responseURL else { return }
            for message in messages {
                do {
                    try await slack.respond(
                        to: url, text: message["text"]?.stringValue ?? "Uplinks", blocks: message["blocks"], responseType: .ephemeral,
                        replaceOriginal: false)
                } catch {
                    logger.warning("uplinks follow-up failed", metadata: ["error": "\(error)"])
                }
            }
        }
        return ephemeral(":hourglass_flowing_sand: Asking Meraki for uplink statuses; the answer follows here.")
    }

    func followUp(_ messages: [JSONValue], command: SlashCommand) {
        guard !messages.isEmpty, let url = command.responseURL else { return }
        let slack = context.slack
        Task {
            for message in messages {
                try? await slack.respond(
                    to: url, text: message["text"]?.stringValue ?? "Uplinks", blocks: message["blocks"], responseType: .ephemeral,
                    replaceOriginal: false)
            }
        }
    }

    static func uplinkMessages(_ result: Result<[UplinkRow], any Error>, filter: String) -> [JSONValue] {
        switch result {
        case .failure(let error):
            if case let meraki as MerakiError = error, case .rateLimited(let retryAfter) = meraki {
                return [
                    [
                        "response_type": "ephemeral",
                        "text": .string("Meraki is rate limiting requests; try again in \(retryAfter.components.seconds + 1) s."),
                    ]
                ]
            }
            return [["response_type": "ephemeral", "text": .string("Could not read the uplinks: \(FailureClass.userFacing(error)).")]]
        case .success(let rows):
            let shown = UplinksMessage.filter(rows, by: filter)
            if shown.isEmpty {
                let names = Set(rows.map(\.networkName)).sorted().prefix(20).joined(separator: ", ")
                let what =
                    filter.isEmpty ? "Meraki reports no appliances." : "No appliance matches `\(AlertMessage.escape(String(filter.prefix(60))))`."
                return [["response_type": "ephemeral", "text": .string(names.isEmpty ? what : "\(what) Networks: \(AlertMessage.escape(names))")]]
            }
            let heading =
                filter.isEmpty ? "Uplinks of \(shown.count) appliance\(shown.count == 1 ? "" : "s")" : "Uplinks matching “\(filter)”: \(shown.count)"
            return UplinksMessage.render(shown, heading: heading).map {
                ["response_type": "ephemeral", "text": .string(heading), "blocks": $0]
            }
        }
    }

    /// The short status an @-mention gets.
    func statusLine() async throws -> String {
        let counts = try await context.store.countAlerts()
        let open = counts[.open] ?? 0
        let acknowledged = counts[.acknowledged] ?? 0
        let blocks = try await context.store.activeContainmentCount()
        return ":shield: Sentry is up. Open alerts: \(open), acknowledged: \(acknowledged), active blocks: \(blocks). Try `/sentry help`."
    }

    func ephemeral(_ text: String) -> JSONValue {
        ["response_type": "ephemeral", "text": .string(AlertMessage.truncate(text, 3_000))]
    }
}
