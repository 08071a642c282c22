import ArgumentParser
import Foundation
import SentryCore

extension Bench {
    /// `sentry bench encode`: the stored body of the webhook benchmark's alert (a failed-logins alert of one IP with
    /// a message, an escalation policy, a block action and a grouped detection), written by `Alert.storedJSON()`
    /// and by `StreamingJSONEncoder` (the `Codable` path it replaced), alternated round by round on one thread.
    struct Encode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time an alert's stored body, written field by field and through Codable, in alternated rounds.")
        @Option(help: "Bodies per round and path") var count: Int = 100_000
        @Option(help: "Rounds per path (the median is printed)") var rounds: Int = 5

        func validate() throws {
            guard count > 0, rounds > 0 else { throw ValidationError("--count and --rounds must be positive") }
        }

        func run() async throws {
            let alert = Self.alert()
            guard try JSONValue.parse(alert.storedJSON()) == JSONValue.parse(StreamingJSONEncoder.encode(alert)) else {
                throw ValidationError("the two paths wrote different documents")
            }
            var byHand: [Double] = []
            var byCodable: [Double] = []
            var bytes = 0
            for _ in 0..<rounds {
                byHand.append(try Self.time(count) { bytes &+= try alert.storedJSON().count })
                byCodable.append(try Self.time(count) { bytes &+= try StreamingJSONEncoder.encode(alert).count })
            }
            let hand = Stats.median(byHand)
            let codable = Stats.median(byCodable)
            print(
                String(
                    format: "alert body (%d bytes): field by field %.2f µs, Codable %.2f µs (median of %d rounds of %d); %.1f× faster (checksum %d)",
                    try alert.storedJSON().count, hand, codable, rounds, count, codable / hand, bytes % 9973))
        }

        /// Microseconds per call.
        static func time(_ count: Int, _ body: () throws -> Void) throws -> Double {
            let clock = ContinuousClock()
            let began = clock.now
            for _ in 0..<count { try body() }
            return Stats.seconds(clock.now - began) * 1e6 / Double(count)
        }

        static func alert() -> Alert {
            let playbook = Playbook(
                id: "slack-failed-logins-by-ip", title: "Failed logins", detection: "slack.failed_logins_by_ip", severity: .high,
                groupingWindow: 3_600, ackTimeout: 900, escalation: Escalation(mention: ["here"], repeatCount: 3),
                actions: [ContainmentAction(kind: .blockIP, approvals: 1, ttl: 14_400)])
            let detection = Detection(
                id: "bench-1", detection: "slack.failed_logins_by_ip", severity: .high, title: "Failed logins from 10.2.0.1",
                summary: "25 failed logins in 10 minutes", subject: Subject(ip: "10.2.0.1"),
                evidence: .object(["failed_logins": 25, "window": "10m"]))
            let now = Date(timeIntervalSince1970: 1_796_415_494.747932)
            var alert = AlertMachine.handle(
                nil, .detectionReceived(detection, playbook: playbook, channel: "C0BENCH"), alertID: "A-BCJKATXC", now: now
            )
            .alert!
            alert.message = MessageRef(channel: "C0BENCH", ts: "1796415494.772876")
            return AlertMachine.handle(alert, .detectionGrouped(detection), alertID: alert.id, now: now.addingTimeInterval(1.25)).alert!
        }
    }
}
