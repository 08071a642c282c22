import Logging
import SentryCore

/// Puts the appliance's serial and network on MX syslog events (which name the device only) before they reach the
/// rule engine, so a syslog failover and the uplink collector's view of it have one subject and group into one alert.
///
/// A name the directory cannot map (unknown, shared by two appliances, or the Dashboard unreachable) leaves the
/// event as it came, the MX's name as its serial: the alert still goes out, naming the device as the MX did.
public struct DeviceNameMappingSink: EventSink {
    let inner: any EventSink
    let directory: any ApplianceDirectory
    let logger: Logger

    public init(inner: any EventSink, directory: any ApplianceDirectory, logger: Logger) {
        self.inner = inner
        self.directory = directory
        self.logger = logger
    }

    public func deliver(_ events: [SecurityEvent]) async throws {
        var mapped = events
        var answers: [String: DeviceNameIndex.Lookup] = [:]
        for index in mapped.indices where mapped[index].source == .syslog && mapped[index].networkID == nil {
            guard let name = mapped[index].deviceName ?? mapped[index].serial else { continue }
            let answer: DeviceNameIndex.Lookup
            if let known = answers[name] {
                answer = known
            } else {
                answer = await directory.appliance(named: name)
                answers[name] = answer
                switch answer {
                case .found: break
                case .ambiguous(let serials):
                    logger.warning(
                        "syslog device name is shared by several appliances; alert names the device as the MX did",
                        metadata: ["syslog.device": "\(name)", "meraki.serials": "\(serials.joined(separator: ","))"])
                case .unknown:
                    logger.warning("syslog device name matches no appliance of the organisation", metadata: ["syslog.device": "\(name)"])
                }
            }
            guard case .found(let appliance) = answer else { continue }
            mapped[index].deviceName = name
            mapped[index].serial = appliance.serial
            mapped[index].networkID = appliance.networkID
        }
        try await inner.deliver(mapped)
    }
}
