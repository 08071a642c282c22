import Foundation
import SentryCore
import Testing

/// One rule each: a target held by a live containment, a containment whose service is not configured, one uplink
/// model from the API report to the `/sentry uplinks` row.
@Suite struct CoreContainmentRulesTests {
    @Test(arguments: Containment.Status.allCases) func onlyReleasedAndRejectedLetGoOfTheTarget(_ status: Containment.Status) {
        let item = Containment(
            id: "C-1", kind: .blockIP, target: "203.0.113.7", reason: "r", ttl: 60, requestedBy: "U1", requestedAt: Date(timeIntervalSince1970: 0),
            approvalsRequired: 0, approvals: [], status: status, dryRun: false)
        #expect(item.holdsTarget == ![.released, .rejected].contains(status))
    }

    @Test func theHeldSentenceNamesTheHolderAndItsAlertWhenThatIsAnother() {
        #expect(
            Containment.alreadyHeld(kind: .blockIP, target: "203.0.113.7", by: "C-1", status: .awaitingApproval)
                == "Block IP `203.0.113.7` is already awaiting approval (C-1)")
        #expect(
            Containment.alreadyHeld(kind: .blockIP, target: "203.0.113.7", by: "C-1", status: .executing, onAlert: "A-2")
                == "Block IP `203.0.113.7` is already being executed as `C-1` on alert `A-2`")
        #expect(
            Containment.alreadyHeld(kind: .blockUser, target: "U0BAD", by: "C-3", status: .active) == "Block user <@U0BAD> is already active (C-3)")
    }

    @Test func theMachineRefusesASecondLiveContainmentWithTheOneSentence() throws {
        let playbook = Playbook(
            id: "p", title: "T", detection: "slack.failed_logins_by_ip", severity: .high,
            actions: [ContainmentAction(kind: .blockIP, approvals: 1, ttl: 3_600)])
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let detection = Detection(id: "d", detection: playbook.detection, subject: Subject(ip: "203.0.113.7"))
        let created = try #require(
            AlertMachine.handle(nil, .detectionReceived(detection, playbook: playbook, channel: "C1"), alertID: "A-1", now: now).alert)
        func request(_ id: String) -> AlertEvent {
            .containmentRequested(
                ContainmentRequest(
                    id: id, kind: .blockIP, target: "203.0.113.7", ttl: 3_600, reason: "r", requestedBy: "U1", mayContain: true, approvalsRequired: 1,
                    dryRun: false, responseURL: nil))
        }
        let first = try #require(AlertMachine.handle(created, request("C-1"), alertID: "A-1", now: now).alert)
        let second = AlertMachine.handle(first, request("C-2"), alertID: "A-1", now: now)
        let reason = Containment.alreadyHeld(kind: .blockIP, target: "203.0.113.7", by: "C-1", status: .awaitingApproval)
        #expect(second.outcome == .ignored(reason))
        #expect(second.effects == [.tellUser(userID: "U1", text: "Nothing to do: \(reason).", responseURL: nil)])
    }

    struct SetupRow: Sendable {
        var kind: ContainmentAction.Kind
        var sentence: String
    }

    static let setup: [SetupRow] = [
        SetupRow(kind: .blockUser, sentence: "Block user is not set up: set SLACK_ADMIN_TOKEN (an org-admin user token)"),
        SetupRow(kind: .blockIP, sentence: "Block IP is not set up: set MERAKI_API_KEY and MERAKI_ORG_ID"),
        SetupRow(kind: .approvedOnly, sentence: "Approved devices only is not set up: set MERAKI_API_KEY and MERAKI_ORG_ID"),
    ]

    @Test(arguments: setup) func notConfiguredNamesTheSettings(_ row: SetupRow) {
        #expect(row.kind.notConfigured == row.sentence)
    }

    @Test func anUplinkRowIsTheReportWithNames() {
        let at = Date(timeIntervalSince1970: 1_795_000_000)
        let report = UplinkReport(
            serial: "Q2", networkID: "N_1", lastReportedAt: at,
            uplinks: [UplinkReport.Uplink(interface: "wan1", status: nil, ip: "10.0.0.2", publicIP: "198.51.100.1")])
        let row = UplinkRow(report, networkName: nil, deviceName: "MX", model: "MX68")
        #expect(
            row
                == UplinkRow(
                    networkID: "N_1", networkName: "N_1", serial: "Q2", deviceName: "MX", model: "MX68", lastReportedAt: at, links: report.uplinks))
        // A link the API gave no status is shown as unknown.
        let text = UplinksMessage.render([row], heading: "Uplinks").map { $0.encoded() }.joined()
        #expect(text.contains("`wan1` unknown"))
    }
}
