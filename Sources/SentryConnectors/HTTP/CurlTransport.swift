import CCurl
import Foundation

/// `HTTPTransport` over libcurl: one multi handle, driven by a dedicated thread, so transfers never block the
/// cooperative pool or an event loop; the multi handle's connection cache gives keep-alive and HTTP/2 reuse.
/// Proxies follow HTTPS_PROXY / NO_PROXY, as libcurl does by default.
public final class CurlTransport: HTTPTransport, @unchecked Sendable {
    private let loop: CurlLoop
    private let options: CurlTransferOptions

    /// - Parameters:
    ///   - maxConnections: connections kept in the cache, and the limit of parallel connections per host
    ///     (further transfers wait inside libcurl; HTTP/2 multiplexes over one connection).
    ///   - maxResponseBytes: a larger response fails the transfer instead of growing memory without bound.
    public init(
        maxConnections: Int = 32,
        maxResponseBytes: Int = 16 * 1024 * 1024,
        userAgent: String = "sentry-platform"
    ) {
        _ = CurlGlobal.initialized
        self.options = CurlTransferOptions(userAgent: userAgent, maxResponseBytes: maxResponseBytes)
        let loop = CurlLoop(maxConnections: maxConnections)
        self.loop = loop
        // The thread holds the loop, not the transport, so dropping the transport still reaches deinit.
        let thread = Thread { loop.run() }
        thread.name = "sentry-curl"
        thread.start()
    }

    deinit {
        loop.shutdown()
    }

    /// Stops the transfer thread; transfers in flight or submitted later fail with `TransportError.shutDown`.
    public func shutdown() {
        loop.shutdown()
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let transfer = try CurlTransfer.make(request, options: options)
        let loop = self.loop
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                loop.submit(transfer, continuation)
            }
        } onCancel: {
            loop.cancel(transfer)
        }
    }
}

private enum CurlGlobal {
    // Swift runs a static initializer exactly once, which is what curl_global_init needs.
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}

struct CurlTransferOptions: Sendable {
    var userAgent: String
    var maxResponseBytes: Int
}

/// Owns the multi handle. `submit`, `cancel` and `shutdown` may be called from any thread; everything else
/// runs on the transfer thread.
private final class CurlLoop: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by `lock`, together with each transfer's `state` and `continuation`.
    private var queued: [CurlTransfer] = []
    private var cancelRequests: [CurlTransfer] = []
    private var stopRequested = false
    private var closed = false

    // Transfer thread only (`multi` itself is also used by curl_multi_wakeup, which is thread-safe, under
    // `lock` and only while `closed` is false).
    private let multi: UnsafeMutableRawPointer?
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init(maxConnections: Int) {
        multi = curl_multi_init()
        if let multi {
            _ = sentry_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
            _ = sentry_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnections)
        } else {
            closed = true
        }
    }

    func submit(_ transfer: CurlTransfer, _ continuation: CheckedContinuation<HTTPResponse, any Error>) {
        let rejection: (any Error)? = lock.withLock {
            switch transfer.state {
            case .created:
                if closed || stopRequested {
                    transfer.state = .finished
                    return TransportError.shutDown
                }
                transfer.state = .queued
                transfer.continuation = continuation
                queued.append(transfer)
                _ = curl_multi_wakeup(multi)
                return nil
            case .cancelled:
                transfer.state = .finished
                return CancellationError()
            case .queued, .running, .finished:
                // A transfer object is submitted once; reaching here is a programming error in this file.
                return TransportError.failed(code: -1, message: "transfer submitted twice")
            }
        }
        if let rejection {
            continuation.resume(throwing: rejection)
        }
    }

    func cancel(_ transfer: CurlTransfer) {
        let continuation: CheckedContinuation<HTTPResponse, any Error>? = lock.withLock {
            switch transfer.state {
            case .created:
                transfer.state = .cancelled
                return nil
            case .queued:
                queued.removeAll { $0 === transfer }
                transfer.state = .finished
                defer { transfer.continuation = nil }
                return transfer.continuation
            case .running:
                cancelRequests.append(transfer)
                if !closed { _ = curl_multi_wakeup(multi) }
                return nil
            case .finished, .cancelled:
                return nil
            }
        }
        continuation?.resume(throwing: CancellationError())
    }

    func shutdown() {
        lock.withLock {
            guard !closed, !stopRequested else { return }
            stopRequested = true
            _ = curl_multi_wakeup(multi)
        }
    }

    func run() {
        guard let multi else { return }
        while true {
            let (incoming, cancels, stop) = lock.withLock {
                let incoming = queued
                let cancels = cancelRequests
                queued = []
                cancelRequests = []
                for transfer in incoming { transfer.state = .running }
                return (incoming, cancels, stopRequested)
            }
            if stop {
                // Put back what was taken so the shutdown path below fails it.
                lock.withLock { queued = incoming }
                break
            }
            for transfer in incoming {
                start(transfer, in: multi)
            }
            for transfer in cancels {
                guard let easy = transfer.easy, active.removeValue(forKey: easy) != nil else { continue }
                _ = curl_multi_remove_handle(multi, easy)
                transfer.releaseHandle()
                finish(transfer, .failure(CancellationError()))
            }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            collectCompleted(in: multi)
            // libcurl shortens the wait to its own next timeout; curl_multi_wakeup ends it early.
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }

        let leftovers = lock.withLock {
            closed = true
            defer {
                queued = []
                cancelRequests = []
            }
            return queued
        }
        for (easy, transfer) in active {
            _ = curl_multi_remove_handle(multi, easy)
            transfer.releaseHandle()
            finish(transfer, .failure(TransportError.shutDown))
        }
        active = [:]
        for transfer in leftovers {
            finish(transfer, .failure(TransportError.shutDown))
        }
        _ = curl_multi_cleanup(multi)
    }

    private func start(_ transfer: CurlTransfer, in multi: UnsafeMutableRawPointer) {
        guard let easy = transfer.easy else {
            finish(transfer, .failure(TransportError.failed(code: -1, message: "transfer has no handle")))
            return
        }
        let code = curl_multi_add_handle(multi, easy)
        guard code == CURLM_OK else {
            let message = String(cString: curl_multi_strerror(code))
            finish(transfer, .failure(TransportError.failed(code: Int(code.rawValue), message: message)))
            return
        }
        active[easy] = transfer
    }

    private func collectCompleted(in multi: UnsafeMutableRawPointer) {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = sentry_curl_msg_result(message)
            // `message` is invalid once its handle is removed.
            guard let transfer = active.removeValue(forKey: easy) else {
                _ = curl_multi_remove_handle(multi, easy)
                continue
            }
            let result = transfer.result(for: code)
            _ = curl_multi_remove_handle(multi, easy)
            transfer.releaseHandle()
            finish(transfer, result)
        }
    }

    private func finish(_ transfer: CurlTransfer, _ result: Result<HTTPResponse, any Error>) {
        let continuation: CheckedContinuation<HTTPResponse, any Error>? = lock.withLock {
            guard transfer.state != .finished else { return nil }
            transfer.state = .finished
            defer { transfer.continuation = nil }
            return transfer.continuation
        }
        continuation?.resume(with: result)
    }
}

/// One easy handle and what it has received so far.
private final class CurlTransfer: @unchecked Sendable {
    enum State { case created, queued, running, finished, cancelled }

    // Guarded by CurlLoop's lock.
    var state: State = .created
    var continuation: CheckedContinuation<HTTPResponse, any Error>?

    // Touched by the submitting task until submission, then by the transfer thread only.
    private(set) var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let maxResponseBytes: Int
    private var body: [UInt8] = []
    private var headers: [String: String] = [:]
    private var overflowed = false

    private init(easy: UnsafeMutableRawPointer, maxResponseBytes: Int) {
        self.easy = easy
        self.maxResponseBytes = maxResponseBytes
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        releaseHandle()
        errorBuffer.deallocate()
    }

    func releaseHandle() {
        if let easy {
            curl_easy_cleanup(easy)
            self.easy = nil
        }
        if let headerList {
            curl_slist_free_all(headerList)
            self.headerList = nil
        }
    }

    static func make(_ request: HTTPRequest, options: CurlTransferOptions) throws -> CurlTransfer {
        try validate(url: request.url)
        guard let easy = curl_easy_init() else {
            throw TransportError.failed(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_easy_init failed")
        }
        let transfer = CurlTransfer(easy: easy, maxResponseBytes: options.maxResponseBytes)
        try transfer.configure(request, options: options)
        return transfer
    }

    private static func validate(url: String) throws {
        guard let parsed = curl_url() else { return }
        defer { curl_url_cleanup(parsed) }
        let code = curl_url_set(parsed, CURLUPART_URL, url, 0)
        if code != CURLUE_OK {
            throw TransportError.invalidURL(String(cString: curl_url_strerror(code)))
        }
    }

    private func configure(_ request: HTTPRequest, options: CurlTransferOptions) throws {
        guard let easy else { return }
        func check(_ code: CURLcode) throws {
            guard code == CURLE_OK else {
                throw TransportError.failed(code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)))
            }
        }
        let timeout = max(1, milliseconds(request.timeout))
        try check(sentry_curl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        try check(sentry_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        try check(sentry_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        try check(sentry_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, timeout))
        try check(sentry_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, min(timeout, 5000)))
        try check(sentry_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
        try check(sentry_curl_easy_setopt_string(easy, CURLOPT_USERAGENT, options.userAgent))
        try check(sentry_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        // Best effort: a libcurl built without nghttp2 or zlib refuses these, and HTTP/1.1 uncompressed still works.
        _ = sentry_curl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        _ = sentry_curl_easy_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, "")
        _ = sentry_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)

        let this = Unmanaged.passUnretained(self).toOpaque()
        try check(sentry_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, this))
        try check(
            sentry_curl_easy_setopt_callback(easy, CURLOPT_WRITEFUNCTION) { buffer, size, count, userdata in
                let length = size * count
                guard let userdata else { return 0 }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
                return transfer.receiveBody(UnsafeRawBufferPointer(start: buffer, count: length)) ? length : 0
            })
        try check(sentry_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, this))
        try check(
            sentry_curl_easy_setopt_callback(easy, CURLOPT_HEADERFUNCTION) { buffer, size, count, userdata in
                let length = size * count
                guard let userdata else { return 0 }
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
                transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: buffer, count: length))
                return length
            })

        // An empty "Expect:" stops libcurl from waiting on 100-continue before sending larger bodies.
        var lines = ["Expect:"]
        for header in request.headers {
            // libcurl drops "Name:" but sends "Name;" as a header with an empty value.
            lines.append(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        for line in lines {
            guard let appended = curl_slist_append(headerList, line) else {
                throw TransportError.failed(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_slist_append failed")
            }
            headerList = appended
        }
        try check(sentry_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList))

        let method = request.method.uppercased()
        if let body = request.body {
            try check(sentry_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, Int64(body.count)))
            if body.isEmpty {
                try check(sentry_curl_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                try body.withUnsafeBytes { bytes in
                    try check(sentry_curl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress)))
                }
            }
        } else if ["POST", "PUT", "PATCH"].contains(method) {
            try check(sentry_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, 0))
            try check(sentry_curl_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, ""))
        }
        if method == "HEAD" {
            try check(sentry_curl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        } else if method != "GET" || request.body != nil {
            try check(sentry_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method))
        }
    }

    private func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= maxResponseBytes else {
            overflowed = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    private func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            // A new status line: interim (100, proxy CONNECT) responses' headers are discarded.
            headers = [:]
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return }
        if let existing = headers[name] {
            headers[name] = existing + ", " + value
        } else {
            headers[name] = value
        }
    }

    /// Reads the outcome; call before the handle is removed from the multi handle.
    func result(for code: CURLcode) -> Result<HTTPResponse, any Error> {
        guard code == CURLE_OK else { return .failure(error(for: code)) }
        var status = 0
        if let easy {
            _ = sentry_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        }
        return .success(HTTPResponse(status: status, headers: headers, body: body))
    }

    private func error(for code: CURLcode) -> TransportError {
        let detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timedOut
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_SSL_CONNECT_ERROR:
            return .connectionFailed(detail)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
            return .invalidURL(detail)
        case CURLE_WRITE_ERROR where overflowed:
            return .failed(code: Int(code.rawValue), message: "response body larger than \(maxResponseBytes) bytes")
        default:
            return .failed(code: Int(code.rawValue), message: detail)
        }
    }
}

private func milliseconds(_ duration: Duration) -> Int {
    let (seconds, attoseconds) = duration.components
    return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
}
