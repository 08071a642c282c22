/// `application/x-www-form-urlencoded` bodies as Slack sends them (`+` or `%20` for spaces).
public enum FormBody {
    public struct Malformed: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// One pass over the body: no intermediate arrays of pieces (this runs on every Slack callback).
    public static func parse(_ bytes: [UInt8]) throws(Malformed) -> [String: String] {
        let parsed = bytes.withUnsafeBufferPointer { buffer in Result { () throws(Malformed) in try parse(buffer) } }
        return try parsed.get()
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(Malformed) -> [String: String] {
        var fields: [String: String] = [:]
        fields.reserveCapacity(16)
        var start = 0
        while start < bytes.count {
            var end = start
            var equals: Int?
            while end < bytes.count && bytes[end] != UInt8(ascii: "&") {
                if equals == nil && bytes[end] == UInt8(ascii: "=") { equals = end }
                end += 1
            }
            if end > start {
                let nameEnd = equals ?? end
                let name = try decode(UnsafeBufferPointer(rebasing: bytes[start..<nameEnd]))
                guard !name.isEmpty else { throw Malformed(description: "form field with an empty name") }
                if let equals {
                    fields[name] = try decode(UnsafeBufferPointer(rebasing: bytes[(equals + 1)..<end]))
                } else {
                    fields[name] = ""
                }
            }
            start = end + 1
        }
        return fields
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(Malformed) -> String {
        // Most fields carry no escapes: validate and copy them as they are.
        var escaped = false
        for byte in bytes where byte == UInt8(ascii: "%") || byte == UInt8(ascii: "+") {
            escaped = true
            break
        }
        if !escaped {
            // ASCII (what Slack sends: everything else is percent-encoded) needs no validation.
            if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
            guard let text = String(validating: bytes, as: UTF8.self) else { throw Malformed(description: "form body is not UTF-8") }
            return text
        }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
                index += 1
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count,
                    let high = Crypto.nibble(bytes[index + 1]), let low = Crypto.nibble(bytes[index + 2])
                else { throw Malformed(description: "bad percent escape in form body") }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        if out.allSatisfy({ $0 < 0x80 }) { return String(decoding: out, as: UTF8.self) }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw Malformed(description: "form body is not UTF-8")
        }
        return text
    }

    /// Encodes fields for tests, the demo and the simulators.
    public static func encode(_ fields: [(String, String)]) -> String {
        fields.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String { PercentEncoding.encode(text) }
}
