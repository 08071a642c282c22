import Foundation
import Logging
import SentryCore

/// An `ApplianceDirectory` over the organisation's device list, kept in memory and read again as `DeviceNameCache`
/// decides; concurrent look-ups that need a read share one.
public actor CachedApplianceDirectory: ApplianceDirectory {
    private let inventory: any ApplianceInventory
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var cache: DeviceNameCache
    private var loading: Task<Void, Never>?
    public private(set) var loads = 0

    public init(
        inventory: any ApplianceInventory, cache: DeviceNameCache = DeviceNameCache(), now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger
    ) {
        self.inventory = inventory
        self.cache = cache
        self.now = now
        self.logger = logger
    }

    public func appliance(named name: String) async -> DeviceNameIndex.Lookup {
        // At most one read per look-up: the cache answers from what it has once a read was attempted.
        for _ in 0..<2 {
            switch cache.answer(name, now: now()) {
            case .lookup(let found): return found
            case .loadFirst: await load()
            }
        }
        return cache.index?.lookup(name) ?? .unknown
    }

    private func load() async {
        if let loading { return await loading.value }
        // Unstructured, so a cancelled caller does not cancel a read others wait for.
        let task = Task { await self.read() }
        loading = task
        await task.value
        loading = nil
    }

    private func read() async {
        loads += 1
        do {
            let appliances = try await inventory.appliances()
            cache.loaded(DeviceNameIndex(appliances), at: now())
            logger.debug("appliance names loaded", metadata: ["meraki.appliances": "\(appliances.count)"])
        } catch {
            cache.loadFailed(at: now())
            logger.warning(
                "appliance names could not be read; syslog alerts name devices as the MX does until the next try",
                metadata: ["error": "\(error)"])
        }
    }
}
