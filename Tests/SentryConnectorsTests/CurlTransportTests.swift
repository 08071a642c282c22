import Foundation
import SentryConnectors
import SentryTestSupport
import Testing

extension Connectors {
    @Suite struct CurlTransportTests {
        @Test func sendsMethodHeadersAndBinaryBodyAndReadsTheResponse() async throws {
            let fake = FakeSlack([
                "/api/echo": [FakeSlack.Reply(status: 201, retryAfter: "5", contentType: "application/x-test", body: "created")]
            ])
            try await fake.run { baseURL in
                let transport = CurlTransport()
                let body: [UInt8] = [0, 1, 2, 255] + Array(repeating: 7, count: 4096)
                let response = try await transport.send(
                    SentryConnectors.HTTPRequest(
                        method: "put", url: baseURL + "/echo",
                        headers: [HTTPHeader("X-Trace", "abc"), HTTPHeader("Content-Type", "application/octet-stream")],
                        body: body, timeout: .seconds(5)
                    ))
                #expect(response.status == 201)
                #expect(response.headers["content-type"] == "application/x-test")
                #expect(response.headers["retry-after"] == "5")
                #expect(response.body == Array("created".utf8))
            }
            let call = try #require(fake.calls.first)
            #expect(call.method == "PUT")
            #expect(call.headers["x-trace"] == "abc")
            #expect(call.headers["expect"] == nil)
            #expect(call.body == [0, 1, 2, 255] + Array(repeating: 7, count: 4096))
        }

        @Test func getSendsNoBody() async throws {
            let fake = FakeSlack(["/api/thing": [.ok("{}")]])
            try await fake.run { baseURL in
                let response = try await CurlTransport().send(SentryConnectors.HTTPRequest(url: baseURL + "/thing?a=1"))
                #expect(response.status == 200)
            }
            let call = try #require(fake.calls.first)
            #expect(call.method == "GET")
            #expect(call.body.isEmpty)
            #expect(call.query == ["a": "1"])
        }

        @Test func slowAnswerTimesOut() async throws {
            let fake = FakeSlack(["/api/slow": [.held]])
            try await fake.run { baseURL in
                let started = ContinuousClock.now
                let error = await #expect(throws: TransportError.self) {
                    _ = try await CurlTransport().send(
                        SentryConnectors.HTTPRequest(url: baseURL + "/slow", timeout: .milliseconds(200))
                    )
                }
                #expect(error == .timedOut)
                #expect(ContinuousClock.now - started < .seconds(3))
            }
        }

        @Test func refusedConnectionIsConnectionFailed() async throws {
            let error = await #expect(throws: TransportError.self) {
                _ = try await CurlTransport().send(SentryConnectors.HTTPRequest(url: "http://127.0.0.1:1/", timeout: .seconds(2)))
            }
            guard case .connectionFailed = error else {
                Issue.record("expected connectionFailed, got \(String(describing: error))")
                return
            }
        }

        @Test(arguments: ["not a url", "ftp://example.com/file", ""])
        func unusableURLIsInvalidURL(url: String) async throws {
            let error = await #expect(throws: TransportError.self) {
                _ = try await CurlTransport().send(SentryConnectors.HTTPRequest(url: url))
            }
            guard case .invalidURL = error else {
                Issue.record("expected invalidURL, got \(String(describing: error))")
                return
            }
        }

        @Test func shutdownFailsTransfersInFlightAndLater() async throws {
            let fake = FakeSlack(["/api/slow": [.held]])
            try await fake.run { baseURL in
                let transport = CurlTransport()
                let inFlight = Task {
                    try await transport.send(SentryConnectors.HTTPRequest(url: baseURL + "/slow", timeout: .seconds(10)))
                }
                var arrivals = fake.arrivals.makeAsyncIterator()
                _ = await arrivals.next()
                transport.shutdown()
                await #expect(throws: TransportError.shutDown) { _ = try await inFlight.value }
                await #expect(throws: TransportError.shutDown) {
                    _ = try await transport.send(SentryConnectors.HTTPRequest(url: baseURL + "/slow"))
                }
            }
        }

        @Test func cancellingTheTaskAbandonsTheTransfer() async throws {
            let fake = FakeSlack(["/api/slow": [.held]])
            try await fake.run { baseURL in
                let transport = CurlTransport()
                let inFlight = Task {
                    try await transport.send(SentryConnectors.HTTPRequest(url: baseURL + "/slow", timeout: .seconds(10)))
                }
                var arrivals = fake.arrivals.makeAsyncIterator()
                _ = await arrivals.next()
                inFlight.cancel()
                await #expect(throws: CancellationError.self) { _ = try await inFlight.value }
            }
        }

        @Test func droppedTransportIsReleasedDespiteItsThread() async throws {
            weak var weakTransport: CurlTransport?
            do {
                let transport = CurlTransport()
                weakTransport = transport
            }
            #expect(weakTransport == nil)
        }

        @Test func manyConcurrentTransfersAllComplete() async throws {
            let fake = FakeSlack(["/api/n": [.ok(#"{"ok":true}"#)]])
            try await fake.run { baseURL in
                let transport = CurlTransport()
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<200 {
                        group.addTask {
                            try await transport.send(SentryConnectors.HTTPRequest(url: baseURL + "/n?i=\(index)")).status
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses == Array(repeating: 200, count: 200))
            }
            #expect(fake.calls.count == 200)
        }
    }
}
