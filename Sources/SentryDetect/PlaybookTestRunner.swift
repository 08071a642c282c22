import Foundation
import SentryCore
import SentryEngine
import SentryStore

/// Runs the `tests:` a playbook carries (DESIGN.md §4.8): sample events through the rule engine, or sample
/// webhook detections through the alert store, each with the number of detections or alerts expected.
public enum PlaybookTestRunner {
    public struct Result: Sendable, Equatable {
        public var playbook: String
        public var file: String
        public var name: String
        public var passed: Bool
        public var message: String
    }

    public static func run(_ playbook: Playbook) async -> [Result] {
        guard let cases = playbook.tests?.arrayValue else { return [] }
        var results: [Result] = []
        for (index, testCase) in cases.enumerated() {
            let name = testCase["name"]?.stringValue ?? "test \(index + 1)"
            func result(_ passed: Bool, _ message: String) -> Result {
                Result(playbook: playbook.id, file: playbook.source, name: name, passed: passed, message: message)
            }
            guard let expect = testCase["expect"]?.numberValue.flatMap({ Int(exactly: $0) }), expect >= 0, expect <= 1_000_000 else {
                results.append(result(false, "needs `expect:` with the number of detections (or alerts) expected"))
                continue
            }
            do {
                if let events = testCase["events"]?.arrayValue {
                    let decoded = try events.enumerated().flatMap { try Self.events($0.element, index: $0.offset, detection: playbook.detection) }
                    guard RuleEngine.builtIn.contains(playbook.detection) else {
                        results.append(result(false, "`events:` tests need a built-in detection; use `detections:` for \(playbook.detection)"))
                        continue
                    }
                    let engine = try RuleEngine(playbooks: [playbook])
                    var state = RuleEngine.State()
                    let fired = engine.process(decoded, state: &state, recordCounts: false).detections
                    guard fired.count == expect else {
                        results.append(
                            result(
                                false,
                                "expected \(expect) detection\(expect == 1 ? "" : "s"), got \(fired.count)\(fired.first.map { ": \($0.title ?? "")" } ?? "")"
                            ))
                        continue
                    }
                    var message = "\(fired.count) detection\(fired.count == 1 ? "" : "s") as expected"
                    if let alertsValue = testCase["expect_alerts"] {
                        guard let expectAlerts = alertsValue.numberValue.flatMap({ Int(exactly: $0) }), expectAlerts >= 0 else {
                            results.append(result(false, "`expect_alerts:` must be the number of alerts the detections make"))
                            continue
                        }
                        let alerts = try await Self.alerts(from: fired, playbook: playbook)
                        guard alerts == expectAlerts else {
                            results.append(
                                result(false, "\(message), but expected \(expectAlerts) alert\(expectAlerts == 1 ? "" : "s"), got \(alerts)"))
                            continue
                        }
                        message += ", in \(alerts) alert\(alerts == 1 ? "" : "s")"
                    }
                    results.append(result(true, message))
                } else if let detections = testCase["detections"]?.arrayValue {
                    let store = try SQLiteAlertStore.inMemory()
                    var alerts = Set<String>()
                    var at = Date(timeIntervalSince1970: 1_795_000_000)
                    for (offset, value) in detections.enumerated() {
                        var object = value.objectValue ?? [:]
                        if object["detection"] == nil { object["detection"] = .string(DetectionPattern.example(playbook.detection)) }
                        if object["id"] == nil { object["id"] = .string("test-\(offset)") }
                        let detection: Detection
                        do {
                            detection = try Detection.decodeWebhook(Array(JSONValue.object(object).encoded().utf8))
                        } catch {
                            throw TestProblem(description: "detection \(offset + 1): \(error.description)")
                        }
                        if let after = value["after"]?.stringValue, let seconds = DurationText.parse(after) {
                            at = at.addingTimeInterval(Double(seconds))
                        }
                        let ingested = try await AlertEngine(store: store).ingest(
                            detection, playbook: playbook, channel: playbook.channel ?? "C0TEST", newAlertID: "A-T\(offset)", now: at)
                        alerts.insert(ingested.alertID)
                    }
                    results.append(
                        result(
                            alerts.count == expect,
                            alerts.count == expect
                                ? "\(alerts.count) alert\(alerts.count == 1 ? "" : "s") as expected"
                                : "expected \(expect) alert\(expect == 1 ? "" : "s"), got \(alerts.count)"))
                } else {
                    results.append(result(false, "needs `events:` (built-in detections) or `detections:` (webhook detections)"))
                }
            } catch let problem as TestProblem {
                results.append(result(false, problem.description))
            } catch {
                results.append(result(false, "\(error)"))
            }
        }
        return results
    }

    /// How many alerts the detections of an `events:` case make once grouped (by detection and subject within the
    /// playbook's grouping window, each taken in at the time it happened).
    static func alerts(from detections: [Detection], playbook: Playbook) async throws -> Int {
        let store = try SQLiteAlertStore.inMemory()
        var alerts = Set<String>()
        for (offset, detection) in detections.enumerated() {
            let at = detection.occurredAt ?? Date(timeIntervalSince1970: 1_795_000_000)
            let ingested = try await AlertEngine(store: store).ingest(
                detection, playbook: playbook, channel: playbook.channel ?? "C0TEST", newAlertID: "A-E\(offset)", now: at)
            alerts.insert(ingested.alertID)
        }
        return alerts.count
    }

    struct TestProblem: Error, CustomStringConvertible {
        var description: String
    }

    /// One `events:` item, expanded by `repeat` and `every`.
    static func events(_ value: JSONValue, index: Int, detection: String) throws -> [SecurityEvent] {
        guard let object = value.objectValue else { throw TestProblem(description: "event \(index + 1) must be a mapping") }
        guard let action = object["action"]?.stringValue else { throw TestProblem(description: "event \(index + 1) needs `action:`") }
        guard let atText = object["at"]?.stringValue, let at = Timestamp.parseISO8601(atText) else {
            throw TestProblem(description: "event \(index + 1) needs `at:` as an RFC 3339 time such as 2026-11-22T09:00:00Z")
        }
        let count = object["repeat"].map { $0.numberValue.flatMap { Int(exactly: $0) } ?? -1 } ?? 1
        guard count >= 1, count <= 100_000 else { throw TestProblem(description: "event \(index + 1): `repeat` must be 1 to 100000") }
        var every = 0
        if let text = object["every"]?.stringValue {
            guard let seconds = DurationText.parse(text) else {
                throw TestProblem(description: "event \(index + 1): `every` must be a duration such as 20s")
            }
            guard seconds <= 366 * 86_400 else { throw TestProblem(description: "event \(index + 1): `every` must be at most a year") }
            every = seconds
        }
        let source: SecurityEvent.Source = detection.hasPrefix("meraki.") ? .merakiUplinks : .slackAudit
        let events = (0..<count).map { n in
            SecurityEvent(
                source: object["source"]?.stringValue.flatMap(SecurityEvent.Source.init(rawValue:)) ?? source,
                id: "test-\(index)-\(n)", at: at.addingTimeInterval(Double(n * every)), action: action,
                userID: object["user"]?.stringValue, ip: object["ip"]?.stringValue, fileID: object["file_id"]?.stringValue,
                fileName: object["file"]?.stringValue, channelID: object["channel"]?.stringValue, reason: object["reason"]?.stringValue,
                networkID: object["network"]?.stringValue, serial: object["serial"]?.stringValue, interface: object["interface"]?.stringValue,
                previousPublicIP: object["previous_public_ip"]?.stringValue, publicIP: object["public_ip"]?.stringValue)
        }
        // Set apart: one more argument above is more than the type checker takes in reasonable time.
        let deviceName = object["device_name"]?.stringValue
        return events.map { event in
            var event = event
            event.deviceName = deviceName
            return event
        }
    }
}
