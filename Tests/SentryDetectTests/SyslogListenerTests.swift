import Foundation
import SentryCore
import SentryDetect
import SentryTestSupport
import SentryTesting
import ServiceLifecycle
import Testing

@Suite(.serialized) struct SyslogListenerTests {
    @Test func udpDeliversTheUplinkEventsOfTheMXSamples() async throws {
        let sink = RecordingEventSink()
        let running = try await SyslogHarness.start(tcp: false, sink: sink)
        let udpPort = try #require(running.ports.udp)
        #expect(running.ports.tcp == nil)
        let lines = try SyslogFixtures.mxLines()
        let sender = try UDPSender(port: udpPort)
        for line in lines { #expect(sender.send(line)) }

        #expect(await eventually { await sink.events.count == 4 && running.listener.counters.received == lines.count })
        let events = await sink.events.sorted { $0.at < $1.at }
        #expect(events.map(\.action) == ["cellular_up", "uplink_failover", "uplink_failover", "cellular_down"])
        #expect(events.map(\.interface) == ["cellular", "cellular", "wan1", "cellular"])
        #expect(events.allSatisfy { $0.source == .syslog && $0.serial == "MX84" })
        try await running.stop()
        let counters = running.listener.counters
        #expect(counters.parsed == lines.count)
        #expect(counters.malformed == 0)
        #expect(counters.events == 4)
        #expect(counters.delivered == 4)
        #expect(counters.dropped == 0)
    }

    @Test func malformedDatagramsAreCountedAndDoNotStopTheListener() async throws {
        let sink = RecordingEventSink()
        let running = try await SyslogHarness.start(tcp: false, sink: sink)
        let sender = try UDPSender(port: try #require(running.ports.udp))
        let malformed: [[UInt8]] = [
            [], Array("garbage that is not syslog".utf8), Array(("<134>1 1386337435.1 MX84 events " + String(repeating: "x", count: 9_000)).utf8),
            Array("<999>1 1386337435.1 MX84 events failover to wan1".utf8), Array("<134>1 1386337435.1 MX84".utf8),
            [0xFF, 0xFE, 0x00, 0x3C],
        ]
        for datagram in malformed { #expect(sender.send(datagram)) }
        sender.send(SyslogFixtures.failoverLine(1))

        #expect(await eventually { await sink.events.count == 1 && running.listener.counters.received == malformed.count + 1 })
        let counters = running.listener.counters
        #expect(counters.malformed == malformed.count)
        #expect(counters.oversized == 1)
        #expect(counters.parsed == 1)
        #expect(counters.events == 1)
        try await running.stop()
    }

    @Test func tcpNewlineFramingTwoFramesInOneWriteAndOneSplitAcrossTwo() async throws {
        let sink = RecordingEventSink()
        let running = try await SyslogHarness.start(udp: false, sink: sink)
        #expect(running.ports.udp == nil)
        let connection = try TCPSender(port: try #require(running.ports.tcp))
        try connection.write(SyslogFixtures.failoverLine(1) + "\n" + SyslogFixtures.failoverLine(2, to: "cellular") + "\r\n")
        let split = "Dec 6 08:46:12 192.168.1.1 1 1386337584.254756845 MX84 events Cellular connection down\n"
        try connection.write(String(split.prefix(30)))
        #expect(await eventually { await sink.events.count == 2 })
        try connection.write(String(split.dropFirst(30)))

        #expect(await eventually { await sink.events.count == 3 })
        let events = await sink.events
        #expect(events.map(\.action) == ["uplink_failover", "uplink_failover", "cellular_down"])
        #expect(events.map(\.interface) == ["wan2", "cellular", "cellular"])
        connection.close()
        try await running.stop()
        #expect(running.listener.counters.malformed == 0)
    }

    @Test func tcpOctetCountingTwoFramesInOneWriteAndOneSplitAcrossTwo() async throws {
        let sink = RecordingEventSink()
        let running = try await SyslogHarness.start(udp: false, sink: sink)
        let connection = try TCPSender(port: try #require(running.ports.tcp))
        try connection.write(octetCounted(SyslogFixtures.failoverLine(1)) + octetCounted(SyslogFixtures.failoverLine(2, to: "wan1")))
        let split = octetCounted(SyslogFixtures.failoverLine(3, to: "cellular"))
        try connection.write(String(split.prefix(2)))  // inside the length
        #expect(await eventually { await sink.events.count == 2 })
        try connection.write(String(split.dropFirst(2).prefix(20)))
        try connection.write(String(split.dropFirst(22)))
        // Framing is chosen per frame: a newline-framed line may follow on the same connection.
        try connection.write("<134>1 1386337999.5 MX84 events Cellular connection up\n")

        #expect(await eventually { await sink.events.count == 4 })
        let events = await sink.events
        #expect(events.map(\.interface) == ["wan2", "wan1", "cellular", "cellular"])
        #expect(events.map(\.action) == ["uplink_failover", "uplink_failover", "uplink_failover", "cellular_up"])
        try await running.stop()
    }

    @Test func oversizeTCPFramesAreDroppedAndCountedAndTheConnectionGoesOn() async throws {
        let sink = RecordingEventSink()
        let running = try await SyslogHarness.start(udp: false, sink: sink, maxMessageBytes: 256)
        let connection = try TCPSender(port: try #require(running.ports.tcp))
        let long = "<134>1 1386337435.1 MX84 events " + String(repeating: "y", count: 1_000)
        try connection.write(octetCounted(long))
        try connection.write(long + "\n")
        try connection.write(SyslogFixtures.failoverLine(7) + "\n")

        #expect(await eventually { await sink.events.count == 1 })
        let counters = running.listener.counters
        #expect(counters.oversized == 2)
        #expect(counters.malformed == 2)
        #expect(counters.received == 3)
        try await running.stop()
    }

    @Test func tcpConnectionsOverTheLimitAreClosed() async throws {
        let sink = RecordingEventSink()
        let running = try await SyslogHarness.start(udp: false, sink: sink, maxConnections: 1)
        let port = try #require(running.ports.tcp)
        let first = try TCPSender(port: port)
        try first.write(SyslogFixtures.failoverLine(1) + "\n")
        #expect(await eventually { await sink.events.count == 1 })
        let second = try TCPSender(port: port)
        #expect(await eventually { running.listener.counters.connectionsRejected == 1 })
        try first.write(SyslogFixtures.failoverLine(2) + "\n")
        #expect(await eventually { await sink.events.count == 2 })
        second.close()
        try await running.stop()
    }

    @Test func floodWithASlowSinkDropsInsteadOfGrowingAndRecovers() async throws {
        let sink = RecordingEventSink(gated: true)
        let capacity = 64
        let batchSize = 16
        let running = try await SyslogHarness.start(tcp: false, sink: sink, queueCapacity: capacity, batchSize: batchSize)
        let sender = try UDPSender(port: try #require(running.ports.udp))
        for n in 0..<20_000 { sender.send(SyslogFixtures.failoverLine(n)) }

        #expect(await eventually { running.listener.counters.dropped > 0 })
        // Let what the kernel still holds be read: wait until the count stops moving.
        var last = -1
        #expect(
            await eventually {
                let received = running.listener.counters.received
                defer { last = received }
                if received == last { return true }
                try? await Task.sleep(for: .milliseconds(100))
                return false
            })
        let flooded = running.listener.counters
        #expect(flooded.events == flooded.received)
        #expect(flooded.dropped > 0)
        #expect(flooded.queueHighWater <= capacity)
        #expect(flooded.delivered == 0)
        // Held by the sink plus waiting in the queue: nothing else was kept.
        #expect(flooded.events - flooded.dropped <= capacity + batchSize)

        await sink.open()
        #expect(await eventually { running.listener.counters.delivered == flooded.events - flooded.dropped })
        let marker = "<134>1 1999999999.5 MX84 events failover to wan1"
        sender.send(marker)
        #expect(await eventually { await sink.events.last?.at == Date(timeIntervalSince1970: 1_999_999_999.5) })
        try await running.stop()
        let after = running.listener.counters
        #expect(after.delivered == after.events - after.dropped)
        #expect(after.queueHighWater <= capacity)
    }

    @Test func gracefulShutdownClosesConnectionsAndFlushesWhatIsQueued() async throws {
        let sink = RecordingEventSink()
        let configuration = SyslogListener.Configuration(
            udp: SyslogEndpoint(host: "127.0.0.1", port: 0), tcp: SyslogEndpoint(host: "127.0.0.1", port: 0), batchSize: 100,
            flushInterval: .seconds(3_600))
        let listener = SyslogListener(configuration: configuration, sink: sink, logger: SyslogFixtures.logger)
        let group = ServiceGroup(services: [listener], logger: SyslogFixtures.logger)
        let running = Task { try await group.run() }
        let ports = try await listener.boundPorts()
        let connection = try TCPSender(port: try #require(ports.tcp))
        for n in 0..<5 { try connection.write(SyslogFixtures.failoverLine(n) + "\n") }
        #expect(await eventually { listener.counters.events == 5 })
        #expect(await sink.events.isEmpty)  // neither a full batch nor a tick yet

        await group.triggerGracefulShutdown()
        try await running.value
        #expect(await sink.events.count == 5)
        #expect(listener.counters.delivered == 5)
        // The sockets are closed: a new connection is refused.
        #expect(throws: POSIXSocketError.self) { try TCPSender(port: try #require(ports.tcp)) }
    }

    @Test func aSinkThatHangsDoesNotHoldACancelledListenerPastItsDrainTime() async throws {
        let configuration = SyslogListener.Configuration(
            udp: SyslogEndpoint(host: "127.0.0.1", port: 0), batchSize: 1, flushInterval: .milliseconds(20),
            drainAfterCancellation: .milliseconds(500))
        let sink = HangingEventSink()
        let listener = SyslogListener(
            configuration: configuration, sink: sink, logger: SyslogFixtures.logger, clock: ManualClock(SyslogFixtures.now, waits: .real))
        let finished = Locked(false)
        let task = Task {
            defer { finished.withLock { $0 = true } }
            try await listener.run()
        }
        let ports = try await listener.boundPorts()
        let sender = try UDPSender(port: try #require(ports.udp))
        for n in 0..<5 { sender.send(SyslogFixtures.failoverLine(n)) }
        #expect(await eventually { listener.counters.events == 5 && sink.calls.current >= 1 })
        let cancelled = ContinuousClock.now
        task.cancel()
        // Polled, not awaited: a listener that hangs fails this test instead of hanging the suite.
        #expect(await eventually(timeout: .seconds(6)) { finished.current })
        let took = ContinuousClock.now - cancelled
        #expect(took >= .milliseconds(500) && took < .seconds(4), "stopped in \(took)")
        let counters = listener.counters
        #expect(counters.delivered == 0)
        // Given up, not failed: the warning "syslog events given up at shutdown" counts them.
        #expect(counters.deliveryFailures == 0)
    }

    @Test func bindFailureIsReportedToRunAndToWaiters() async throws {
        let first = try await SyslogHarness.start(udp: false, sink: RecordingEventSink())
        let taken = try #require(first.ports.tcp)
        let second = SyslogListener(
            configuration: .init(tcp: SyslogEndpoint(host: "127.0.0.1", port: taken)), sink: RecordingEventSink(), logger: SyslogFixtures.logger)
        await #expect(throws: SyslogListenerError.self) { try await second.run() }
        await #expect(throws: SyslogListenerError.self) { try await second.boundPorts() }
        await #expect(throws: SyslogListenerError.alreadyRunning) { try await second.run() }
        try await first.stop()
    }
}

@Suite struct SyslogEndpointTests {
    @Test(arguments: [
        ("0.0.0.0:514", "0.0.0.0", 514), ("127.0.0.1:0", "127.0.0.1", 0), ("[::]:6514", "::", 6514), ("localhost:514", "localhost", 514),
        (" 10.0.0.1:1514 ", "10.0.0.1", 1514),
    ])
    func parses(text: String, host: String, port: Int) throws {
        #expect(try SyslogEndpoint(parsing: text) == SyslogEndpoint(host: host, port: port))
    }

    @Test(arguments: ["514", ":514", "host:", "host:port", "host:65536", "::1:514", "host:-1", "a b:514", ""])
    func refuses(text: String) {
        #expect(throws: SyslogEndpointError(text: text)) { try SyslogEndpoint(parsing: text) }
    }

    @Test func describesItselfAsItIsWritten() throws {
        #expect(try SyslogEndpoint(parsing: "[::1]:514").description == "[::1]:514")
        #expect(SyslogEndpointError(text: "x").description.contains("host:port"))
    }
}
