/// Serialises firewall writes per network: a read-modify-write of a network's whole rule list must not
/// overlap another one, or the later PUT drops the earlier rule. Share one per organisation (every copy of a
/// `MerakiClient` made from the same init shares it already). Waiters are served in arrival order.
public actor MerakiNetworkLocks {
    /// A key is present while held; its array holds the waiters.
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    /// Runs `body` while holding the lock of `networkID`.
    public nonisolated func withLock<T: Sendable>(
        _ networkID: String,
        _ body: @Sendable () async throws -> T
    ) async throws -> T {
        await acquire(networkID)
        do {
            let result = try await body()
            await release(networkID)
            return result
        } catch {
            await release(networkID)
            throw error
        }
    }

    /// Whether some write on the network holds the lock (for tests and diagnostics).
    public func isHeld(_ networkID: String) -> Bool {
        waiters[networkID] != nil
    }

    private func acquire(_ networkID: String) async {
        guard waiters[networkID] != nil else {
            waiters[networkID] = []
            return
        }
        await withCheckedContinuation { continuation in
            waiters[networkID, default: []].append(continuation)
        }
    }

    private func release(_ networkID: String) {
        guard var queue = waiters[networkID] else { return }
        if queue.isEmpty {
            waiters[networkID] = nil
        } else {
            // Ownership passes straight to the next waiter; the key stays present.
            let next = queue.removeFirst()
            waiters[networkID] = queue
            next.resume()
        }
    }
}
