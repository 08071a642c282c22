#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A parsed IPv4 or IPv6 address in canonical text form.
public struct IPAddress: Equatable, Hashable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case v4, v6 }
    public let family: Family
    public let bytes: [UInt8]

    public init?(_ text: String) {
        // inet_pton reads a C string: without this, `10.0.0.1\0anything` was read as 10.0.0.1.
        guard !text.isEmpty, text.utf8.count <= 45, !text.utf8.contains(0) else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            family = .v4
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            family = .v6
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        var copy = bytes
        let result = copy.withUnsafeMutableBytes { raw in
            inet_ntop(family == .v4 ? AF_INET : AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count))
        }
        guard result != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension IPAddress {
    /// Whether the bytes are an IPv4 address as `description` writes it (four decimal numbers up to 255 without
    /// leading zeros, joined by dots): text that is its own canonical form, with no round trip through the C calls.
    public static func isCanonicalIPv4(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var parts = 0
        var index = 0
        while index < text.count {
            var value = 0
            let start = index
            while index < text.count, text[index] >= UInt8(ascii: "0"), text[index] <= UInt8(ascii: "9"), index - start < 3 {
                value = value * 10 + Int(text[index] - UInt8(ascii: "0"))
                index += 1
            }
            let digits = index - start
            guard digits > 0, value <= 255, digits == 1 || text[start] != UInt8(ascii: "0") else { return false }
            parts += 1
            if index == text.count { break }
            guard parts < 4, text[index] == UInt8(ascii: ".") else { return false }
            index += 1
            guard index < text.count else { return false }
        }
        return parts == 4
    }
}
