import Foundation

/// One appliance and its uplinks, as `/sentry uplinks` shows them: an `UplinkReport` with names.
public struct UplinkRow: Equatable, Sendable {
    /// The one uplink model: the tracker reads the same.
    public typealias Link = UplinkReport.Uplink

    public var networkID: String
    public var networkName: String
    public var serial: String
    public var deviceName: String?
    public var model: String?
    public var lastReportedAt: Date?
    public var links: [Link]

    public init(networkID: String, networkName: String, serial: String, deviceName: String?, model: String?, lastReportedAt: Date?, links: [Link]) {
        self.networkID = networkID
        self.networkName = networkName
        self.serial = serial
        self.deviceName = deviceName
        self.model = model
        self.lastReportedAt = lastReportedAt
        self.links = links
    }

    /// A report with the names `/sentry uplinks` shows; the network id falls back to "" (the API always has one).
    public init(_ report: UplinkReport, networkName: String?, deviceName: String?, model: String?) {
        let networkID = report.networkID ?? ""
        self.init(
            networkID: networkID, networkName: networkName ?? networkID, serial: report.serial, deviceName: deviceName, model: model,
            lastReportedAt: report.lastReportedAt, links: report.uplinks)
    }
}

/// Renders uplink statuses as Block Kit, split into messages that stay inside Slack's limits.
public enum UplinksMessage {
    /// Blocks per message (Slack allows 50; one is kept for the heading).
    static let blocksPerMessage = 48

    /// Rows whose network name contains the filter (any case) or whose serial equals it.
    public static func filter(_ rows: [UplinkRow], by text: String?) -> [UplinkRow] {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return rows }
        let lowered = text.lowercased()
        return rows.filter {
            $0.serial.lowercased() == lowered || $0.networkName.lowercased().contains(lowered) || ($0.deviceName?.lowercased() == lowered)
        }
    }

    /// Each element is one message's `blocks`; the first starts with a heading.
    public static func render(_ rows: [UplinkRow], heading: String) -> [JSONValue] {
        var messages: [[JSONValue]] = [[AlertMessage.section("*\(AlertMessage.escape(heading))*")]]
        for row in rows.sorted(by: { ($0.networkName, $0.serial) < ($1.networkName, $1.serial) }) {
            let blocks = blocks(for: row)
            if messages[messages.count - 1].count + blocks.count > blocksPerMessage { messages.append([]) }
            messages[messages.count - 1] += blocks
        }
        return messages.map { .array($0) }
    }

    static func blocks(for row: UplinkRow) -> [JSONValue] {
        let device =
            row.deviceName.map { "\(AlertMessage.escape($0)) (`\(AlertMessage.escape(row.serial))`)" } ?? "`\(AlertMessage.escape(row.serial))`"
        var lines = ["*\(AlertMessage.escape(row.networkName))* · \(device)\(row.model.map { " · \(AlertMessage.escape($0))" } ?? "")"]
        for link in row.links {
            let status = link.status ?? "unknown"
            var line = "\(emoji(status)) `\(AlertMessage.escape(link.interface))` \(AlertMessage.escape(status))"
            if let ip = link.ip { line += " · IP `\(AlertMessage.escape(ip))`" }
            if let publicIP = link.publicIP { line += " · public `\(AlertMessage.escape(publicIP))`" }
            lines.append(line)
        }
        if row.links.isEmpty { lines.append("_no uplinks reported_") }
        let reported = row.lastReportedAt.map { "Last reported \(SlackDate.format($0))" } ?? "Never reported"
        return [
            AlertMessage.section(lines.joined(separator: "\n")),
            ["type": "context", "elements": [["type": "mrkdwn", "text": .string(reported)]]],
        ]
    }

    static func emoji(_ status: String) -> String {
        switch status.lowercased() {
        case "active": ":large_green_circle:"
        case "ready": ":white_circle:"
        case "connecting": ":large_yellow_circle:"
        case "failed", "not connected": ":red_circle:"
        default: ":grey_question:"
        }
    }
}
