import Foundation
import HTTPTypes
import NIOHTTP1

/// Why a request body was refused before anything read it: the client's fault, answered 4xx and counted,
/// never logged as a server failure.
enum RequestBodyError: Error, Equatable {
    /// Larger than the limit, declared or sent.
    case tooLarge(limit: Int)
    /// A chunk-size line that is not hexadecimal (`HTTPParserError.invalidChunkSize`).
    case badChunkSize
    /// The connection ended before the declared `Content-Length` or the last chunk (`HTTPParserError.invalidEOFState`).
    case truncated
    /// Framing the HTTP parser refused otherwise: a `Transfer-Encoding` that does not end in `chunked` (RFC 9112
    /// §6.3: the length cannot be known), `Content-Length` with `Transfer-Encoding`, a malformed chunk.
    case badFraming(String)
    /// `chunked` after another transfer coding (`gzip, chunked`): the framing is readable, the bytes are not decoded.
    case unsupportedTransferCoding(String)

    /// What the parser's error says about the body; `transferEncoding` is the request's header, if any.
    init(parsing error: HTTPParserError, transferEncoding: String?) {
        switch error {
        case .invalidChunkSize: self = .badChunkSize
        case .invalidEOFState, .closedConnection: self = .truncated
        default:
            if let transferEncoding, Self.codings(transferEncoding).last != "chunked" {
                self = .badFraming("Transfer-Encoding '\(transferEncoding.prefix(40))' does not end in chunked")
            } else {
                self = .badFraming("\(error)")
            }
        }
    }

    /// The transfer codings of a `Transfer-Encoding` value, lowercased, in order.
    static func codings(_ value: String) -> [String] {
        value.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The label of `sentry_http_bodies_refused_total`.
    var reason: String {
        switch self {
        case .tooLarge: "too_large"
        case .badChunkSize: "bad_chunk_size"
        case .truncated: "truncated"
        case .badFraming: "bad_framing"
        case .unsupportedTransferCoding: "unsupported_transfer_coding"
        }
    }

    var status: HTTPResponse.Status {
        switch self {
        case .tooLarge: .contentTooLarge
        case .badChunkSize, .truncated, .badFraming: .badRequest
        case .unsupportedTransferCoding: .unsupportedMediaType
        }
    }

    /// Once the framing is broken, nothing after it on the connection can be read as a request.
    var closesConnection: Bool {
        switch self {
        case .badChunkSize, .truncated, .badFraming: true
        case .tooLarge, .unsupportedTransferCoding: false
        }
    }

    var message: String {
        switch self {
        case .tooLarge(let limit): "body larger than \(limit / 1024) KiB"
        case .badChunkSize: "invalid chunk size in the chunked body"
        case .truncated: "body ended before its Content-Length or its last chunk"
        case .badFraming(let detail): "malformed body framing: \(detail)"
        case .unsupportedTransferCoding(let codings): "Transfer-Encoding '\(codings.prefix(40))' is not supported; send the body as is or chunked"
        }
    }
}
