import SentryCore

/// Turns Slack mrkdwn and Block Kit into plain lines a terminal reader can follow.
enum Transcript {
    static func plain(_ text: String) -> String {
        var out = text
        // <!date^epoch^format|fallback> → fallback
        while let start = out.range(of: "<!date^"), let bar = out[start.upperBound...].firstIndex(of: "|"),
            let end = out[bar...].firstIndex(of: ">")
        {
            out.replaceSubrange(start.lowerBound...end, with: out[out.index(after: bar)..<end])
        }
        while let start = out.range(of: "<!subteam^"), let end = out[start.upperBound...].firstIndex(of: ">") {
            out.replaceSubrange(start.lowerBound...end, with: "@" + out[start.upperBound..<end])
        }
        while let start = out.range(of: "<@"), let end = out[start.upperBound...].firstIndex(of: ">") {
            out.replaceSubrange(start.lowerBound...end, with: "@" + out[start.upperBound..<end])
        }
        while let start = out.range(of: "<#"), let end = out[start.upperBound...].firstIndex(of: ">") {
            out.replaceSubrange(start.lowerBound...end, with: "#" + out[start.upperBound..<end])
        }
        return out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    static func blocks(_ blocks: JSONValue?, indent: String = "    │ ") -> [String] {
        var lines: [String] = []
        for block in blocks?.arrayValue ?? [] {
            switch block["type"]?.stringValue {
            case "header":
                lines.append(plain(block["text"]?["text"]?.stringValue ?? ""))
            case "section":
                if let text = block["text"]?["text"]?.stringValue { lines += plain(text).split(separator: "\n").map(String.init) }
                for field in block["fields"]?.arrayValue ?? [] {
                    let parts = plain(field["text"]?.stringValue ?? "").split(separator: "\n", maxSplits: 1).map(String.init)
                    lines.append(parts.count == 2 ? "\(parts[0].replacingOccurrences(of: "*", with: "")): \(parts[1])" : parts.joined())
                }
            case "context":
                for element in block["elements"]?.arrayValue ?? [] { lines.append(plain(element["text"]?.stringValue ?? "")) }
            case "actions":
                let labels = (block["elements"]?.arrayValue ?? []).map { "[\($0["text"]?["text"]?.stringValue ?? "?")]" }
                lines.append(labels.joined(separator: " "))
            default:
                break
            }
        }
        return lines.map { indent + $0 }
    }
}
