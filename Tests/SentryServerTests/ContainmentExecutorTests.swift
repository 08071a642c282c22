import Foundation
import SentryConnectors
import SentryCore
import SentryServer
import SentryStore
import SentryTestSupport
import SentryTesting
import Testing

/// The live executor against the SCIM and Meraki simulators, without the server around it.
@Suite struct ServerContainmentExecutorTests {
    static func containment(_ kind: ContainmentAction.Kind, _ target: String, id: String = "C-EXEC0001") -> Containment {
        Containment(
            id: id, kind: kind, target: target, reason: "test", ttl: 3_600, requestedBy: "U0ALICE", requestedAt: Date(),
            approvalsRequired: 0, approvals: [], status: .executing, dryRun: false)
    }

    func expectPermanent(_ body: () async throws -> String, containing text: String) async {
        do {
            let report = try await body()
            Issue.record("expected a permanent failure, got: \(report)")
        } catch let error as ContainmentError {
            guard case .permanent(let reason) = error else {
                Issue.record("expected permanent, got \(error)")
                return
            }
            #expect(reason.contains(text), "\(reason)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func slackUsersUnknownRefusedAndAlreadyDeactivated() async throws {
        try await withSlackAdmin { world in
            let executor = LiveContainmentExecutor(
                slackAdmin: world.client(), meraki: nil, networks: [], journal: try SQLiteAlertStore.inMemory(), logger: quietLogger)
            await expectPermanent({ try await executor.execute(Self.containment(.blockUser, "W0NOBODY01")) }, containing: "no user")
            await expectPermanent(
                { try await executor.execute(Self.containment(.blockUser, SlackAdminSimulator.primaryOwnerID, id: "C-EXEC0002")) },
                containing: "refused")
            // Someone else had deactivated the account: the block records that, and rollback leaves it so.
            let inactive = Self.containment(.blockUser, SlackAdminSimulator.inactiveUserID, id: "C-EXEC0003")
            #expect(try await executor.execute(inactive).contains("already deactivated"))
            #expect(try await executor.release(inactive).contains("Left deactivated"))
            #expect(world.simulator.isActive(SlackAdminSimulator.inactiveUserID) == false)
            #expect(world.simulator.requests.filter { $0.httpMethod == "PATCH" }.isEmpty)
            // An active account: blocked, blocked again after a "crash" (no second DELETE), then reactivated.
            let active = Self.containment(.blockUser, SlackAdminSimulator.activeUserID, id: "C-EXEC0004")
            _ = try await executor.execute(active)
            _ = try await executor.execute(active)
            #expect(world.simulator.requests.filter { $0.httpMethod == "DELETE" && $0.path.hasSuffix(SlackAdminSimulator.activeUserID) }.count == 1)
            #expect(try await executor.release(active).contains("reactivated"))
            #expect(world.simulator.isActive(SlackAdminSimulator.activeUserID) == true)
        }
    }

    @Test func networksWithoutAnApplianceAreReportedAndRepeatsChangeNothing() async throws {
        try await MerakiHarness.run { stage in
            let journal = try SQLiteAlertStore.inMemory()
            let mixed = LiveContainmentExecutor(
                slackAdmin: nil, meraki: stage.client(), networks: [MerakiSimulator.mainOffice, MerakiSimulator.warehouse], journal: journal,
                logger: quietLogger)
            let block = Self.containment(.blockIP, "203.0.113.50")
            let report = try await mixed.execute(block)
            #expect(report.contains("Deny rule on 1 network"))
            #expect(report.contains("Not written: \(MerakiSimulator.warehouse)"))
            // A repeat (after a crash) writes nothing more.
            let puts = stage.simulator.requests(path: MerakiHarness.l3Path(MerakiSimulator.mainOffice), method: "PUT").count
            _ = try await mixed.execute(block)
            #expect(stage.simulator.requests(path: MerakiHarness.l3Path(MerakiSimulator.mainOffice), method: "PUT").count == puts)
            #expect(try await mixed.release(block).contains("removed from 1 network"))
            #expect(try await mixed.release(block).contains("removed from 0 networks"))

            let onlyWarehouse = LiveContainmentExecutor(
                slackAdmin: nil, meraki: stage.client(), networks: [MerakiSimulator.warehouse], journal: journal, logger: quietLogger)
            await expectPermanent(
                { try await onlyWarehouse.execute(Self.containment(.blockIP, "203.0.113.51", id: "C-EXEC0009")) },
                containing: "no network took the rule")
        }
    }

    @Test func defaultNetworksAreThoseWithAnApplianceAndAreRememberedForRollback() async throws {
        try await MerakiHarness.run { stage in
            let journal = try SQLiteAlertStore.inMemory()
            let executor = LiveContainmentExecutor(slackAdmin: nil, meraki: stage.client(), networks: [], journal: journal, logger: quietLogger)
            let block = Self.containment(.blockIP, "198.51.100.0/24")
            #expect(try await executor.execute(block).contains("Deny rule on 2 networks"))
            let saved = try await journal.recall(containmentID: block.id)["networks"]
            #expect(saved == "\(MerakiSimulator.mainOffice),\(MerakiSimulator.branch)")
            #expect(try await executor.release(block).contains("removed from 2 networks"))
        }
    }

    @Test func disabledFeaturesFailWithTheVariableToSet() async throws {
        let executor = LiveContainmentExecutor(
            slackAdmin: nil, meraki: nil, networks: [], journal: try SQLiteAlertStore.inMemory(), logger: quietLogger)
        await expectPermanent({ try await executor.execute(Self.containment(.blockUser, "W0ACTIVE01")) }, containing: "SLACK_ADMIN_TOKEN")
        await expectPermanent({ try await executor.execute(Self.containment(.blockIP, "203.0.113.7")) }, containing: "MERAKI_API_KEY")
    }
}
