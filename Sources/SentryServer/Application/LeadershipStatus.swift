import Foundation
import SentryCore
import SentryStore
import ServiceLifecycle

/// This replica's name, and whether it leads the pollers now (set by `LeaderElector`).
public final class LeadershipStatus: Sendable {
    public let holder: String
    private let state = Locked(false)

    public init(holder: String) {
        self.holder = holder
    }

    public var leading: Bool {
        get { state.current }
        set { state.withLock { $0 = newValue } }
    }
}

/// Wakes the effect runner when another replica queues work (a store's LISTEN), until shutdown.
struct WorkListener: Service, CustomStringConvertible {
    var description: String { "WorkListener" }
    let source: any WorkNotifying
    let wake: @Sendable () -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown { await source.listenForWork(wake: wake) }
    }
}
