/// What the syslog listener has seen since it started; `received == parsed + malformed` always holds.
public struct SyslogCounters: Equatable, Sendable {
    /// Datagrams and TCP frames, oversized ones included.
    public var received = 0
    /// Messages that parsed, whether or not they carried an event.
    public var parsed = 0
    /// Messages that did not parse: empty, garbage, bad `<PRI>`, truncated, oversized.
    public var malformed = 0
    /// Of `malformed`: frames or datagrams over the size cap, skipped without being buffered.
    public var oversized = 0
    /// Parsed messages that became a `SecurityEvent`.
    public var events = 0
    /// Events the sink accepted.
    public var delivered = 0
    /// Events lost because the queue was full (or closed): the price of bounded memory under a flood.
    public var dropped = 0
    /// Events in batches the sink threw on.
    public var deliveryFailures = 0
    /// The deepest the queue has been; never above `Configuration.queueCapacity`.
    public var queueHighWater = 0
    /// TCP connections closed at once because `Configuration.maxConnections` were open.
    public var connectionsRejected = 0

    public init() {}
}
