import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import SentryCore

extension Request {
    /// Reads at most 64 KiB; larger bodies are refused before anything hashes them. A body the client broke
    /// (too large, framing the parser refuses, cut short, a transfer coding we do not decode) throws
    /// `RequestBodyError`, which `EndpointMiddleware` answers.
    func limitedBody() async throws -> [UInt8] {
        let limit = RequestVerifier.maxBodyBytes
        let declared = headers.value(.contentLength).flatMap { Int($0) }
        if let declared, declared > limit { throw RequestBodyError.tooLarge(limit: limit) }
        let transferEncoding = headers.value(.transferEncoding)
        var buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw RequestBodyError.tooLarge(limit: limit)
        } catch let error as HTTPParserError {
            throw RequestBodyError(parsing: error, transferEncoding: transferEncoding)
        }
        // The parser undid the chunking; a coding under it (`gzip, chunked`) is still on the bytes.
        if let transferEncoding, RequestBodyError.codings(transferEncoding) != ["chunked"] {
            throw RequestBodyError.unsupportedTransferCoding(transferEncoding)
        }
        // The parser reports a connection that ends early; this holds even if a stream ever just stops.
        if let declared, buffer.readableBytes < declared { throw RequestBodyError.truncated }
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// The same request with no body left to read: what an authentication middleware hands on once it has
    /// taken the bytes, so a handler has only the checked copy on its context.
    func withoutBody() -> Request {
        var request = self
        request.body = RequestBody(buffer: ByteBuffer())
        return request
    }

    var isForm: Bool {
        headers.value(.contentType)?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false
    }

    var isJSON: Bool {
        headers.value(.contentType)?.lowercased().hasPrefix("application/json") ?? false
    }
}

extension HTTPFields {
    /// `self[name]` for the usual case of one field, found without the subscript's generic join of several
    /// (a measurable part of a short request); with several, the joined value the subscript gives.
    func value(_ name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            if found != nil { return self[name] }
            found = field.value
        }
        return found
    }
}
