import SentryCore

/// Repeated keys in JSON text, which `JSONValue` folds silently (the first wins).
enum JSONKeys {
    /// Whether some object of a valid JSON text has a key twice (compared as decoded strings, as `JSONValue` does).
    static func repeatsAKey(_ bytes: [UInt8]) -> Bool {
        // One entry per open container: the keys seen so far, or nil for an array.
        var open: [Set<String>?] = []
        var expectingKey = false
        var index = 0
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "{"):
                open.append([])
                expectingKey = true
            case UInt8(ascii: "["):
                open.append(nil)
                expectingKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = open.popLast()
            case UInt8(ascii: ","):
                expectingKey = open.last.map { $0 != nil } ?? false
            case UInt8(ascii: "\""):
                let start = index
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if expectingKey, var keys = open.last ?? nil, let key = JSONValue.parse(bytes[start...min(index, bytes.count - 1)])?.stringValue {
                    if !keys.insert(key).inserted { return true }
                    open[open.count - 1] = keys
                    expectingKey = false
                }
            default:
                break
            }
            index += 1
        }
        return false
    }
}
