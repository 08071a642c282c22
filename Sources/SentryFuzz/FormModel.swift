/// Form decoding written the slow, obvious way: split on `&`, then on the first `=`, then undo `+` and `%XX`.
/// Any bad escape, bad UTF-8 or empty name makes the whole body invalid; a later duplicate wins.
enum FormModel {
    static func parse(_ body: [UInt8]) -> [String: String]? {
        var fields: [String: String] = [:]
        for piece in body.split(separator: UInt8(ascii: "&")) {
            let equals = piece.firstIndex(of: UInt8(ascii: "="))
            guard let name = decode(piece[..<(equals ?? piece.endIndex)]), !name.isEmpty else { return nil }
            if let equals {
                guard let value = decode(piece[(equals + 1)...]) else { return nil }
                fields[name] = value
            } else {
                fields[name] = ""
            }
        }
        return fields
    }

    static func decode(_ text: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        var rest = text[...]
        while let byte = rest.popFirst() {
            switch byte {
            case UInt8(ascii: "+"): out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                let digits = rest.prefix(2).compactMap { UInt8(String(UnicodeScalar($0)), radix: 16) }
                guard digits.count == 2 else { return nil }
                out.append(digits[0] * 16 + digits[1])
                rest = rest.dropFirst(2)
            default: out.append(byte)
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
