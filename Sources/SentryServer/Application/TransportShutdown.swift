import SentryConnectors
import ServiceLifecycle

/// Shuts the transport down once every service after it has stopped, so effects that finish during a graceful
/// shutdown still reach Slack and Meraki. On cancellation it leaves the transport alone: the cancelled
/// transfers fail as cancelled, their effects stay pending, and the transport's deinit stops the thread.
struct TransportShutdown: Service {
    let transport: CurlTransport

    func run() async throws {
        do { try await gracefulShutdown() } catch { return }
        transport.shutdown()
    }
}
