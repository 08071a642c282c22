import Foundation
import SentryEngine
import SentryStore

extension AlertStore {
    /// The engine over this store: tests change alerts the way the product does, through the engine.
    public var engine: AlertEngine { AlertEngine(store: self) }
}

extension AlertStore {
    /// The runner name these tests lease effects under.
    public static var testRunner: String { "test-runner" }

    /// Leases every due lane head to the tests' runner (as a runner's first step) and returns its hold on `id`;
    /// an effect that was not due stays unheld, and the store refuses the claim later.
    public func held(_ id: Int64, now: Date = Date(timeIntervalSince1970: 4_000_000_000)) async throws -> EffectClaim {
        _ = try await claimEffects(owner: Self.testRunner, now: now, lease: 86_400, limit: 10_000)
        return EffectClaim(id: id, owner: Self.testRunner)
    }
}
