import Foundation

/// Parses one syslog message (RFC 5424, RFC 3164 or a Meraki MX line, relayed or not); pure, no I/O.
///
/// RFC 3164 dates carry no year and no zone: they are read as UTC in the year of `receivedAt`, or the year
/// before when that would put them more than a day in the future (a December line read on 1 January).
public struct SyslogParser: Sendable {
    /// Lines longer than this are refused before being decoded (RFC 5424 §6.1 asks receivers to take 480
    /// bytes and suggests 2 KiB; Meraki URL lines can be long).
    public static let defaultMaxLength = 8 * 1024

    public let maxLength: Int

    public init(maxLength: Int = SyslogParser.defaultMaxLength) {
        self.maxLength = max(1, maxLength)
    }

    public func parse(_ line: String, receivedAt: Date) throws(SyslogParseError) -> SyslogMessage {
        let count = line.utf8.count
        guard count <= maxLength else { throw .tooLong(bytes: count, limit: maxLength) }
        return try parse(Array(line.utf8), receivedAt: receivedAt)
    }

    public func parse(_ bytes: some Collection<UInt8>, receivedAt: Date) throws(SyslogParseError) -> SyslogMessage {
        guard bytes.count <= maxLength else { throw .tooLong(bytes: bytes.count, limit: maxLength) }
        var line = Array(bytes)
        while let last = line.last, last == ASCII.lf || last == ASCII.cr || last == 0 { line.removeLast() }
        guard line.contains(where: { !ASCII.isWhitespace($0) }) else { throw .empty }
        var cursor = Cursor(line)
        return try Self.parse(&cursor, raw: String(decoding: line, as: UTF8.self), receivedAt: receivedAt)
    }

    /// The message, or nil for anything malformed.
    public func message(from line: String, receivedAt: Date) -> SyslogMessage? {
        try? parse(line, receivedAt: receivedAt)
    }

    // MARK: - Shapes

    private static func parse(_ c: inout Cursor, raw: String, receivedAt: Date) throws(SyslogParseError) -> SyslogMessage {
        let priority = try c.priority()
        if c.startsWithVersion1 {
            var ahead = c
            ahead.index += 2
            if ahead.epochAhead {
                c = ahead
                return try meraki(&c, priority: priority, relayHost: nil, raw: raw)
            }
            c.index += 2
            return try rfc5424(&c, priority: priority, raw: raw)
        }
        if c.epochAhead {
            return try meraki(&c, priority: priority, relayHost: nil, raw: raw)
        }
        guard c.monthAhead else { throw .unrecognised }
        let timestamp = try c.bsdTimestamp(receivedAt: receivedAt)
        guard c.skip(ASCII.space), let token = c.token() else { throw .truncated }
        let host = String(decoding: token, as: UTF8.self)
        if let relayed = relayedMeraki(after: c, host: host, outerPriority: priority, raw: raw) { return relayed }
        return rfc3164(&c, priority: priority, timestamp: timestamp, host: host, raw: raw)
    }

    /// A relay (or a file written by one) puts its own date and the sender's address before the MX line.
    private static func relayedMeraki(after cursor: Cursor, host: String, outerPriority: Int?, raw: String) -> SyslogMessage? {
        var c = cursor
        guard c.skip(ASCII.space) else { return nil }
        let innerPriority: Int?
        do { innerPriority = try c.priority() } catch { return nil }
        if c.startsWithVersion1 { c.index += 2 }
        guard c.epochAhead else { return nil }
        return try? meraki(&c, priority: innerPriority ?? outerPriority, relayHost: host, raw: raw)
    }

    /// `<epoch>.<nanos> <device-name> <category> <payload>`; the cursor is on the epoch.
    private static func meraki(_ c: inout Cursor, priority: Int?, relayHost: String?, raw: String) throws(SyslogParseError) -> SyslogMessage {
        guard let epoch = c.token(), let timestamp = Epoch.date(epoch) else { throw .unrecognised }
        guard c.skip(ASCII.space), let device = c.token(), c.skip(ASCII.space), let category = c.token() else { throw .truncated }
        _ = c.skip(ASCII.space)
        return SyslogMessage(
            format: .meraki, priority: priority, timestamp: timestamp, host: String(decoding: device, as: UTF8.self),
            app: String(decoding: category, as: UTF8.self), message: c.restString(),
            relayHost: relayHost, raw: raw)
    }

    /// `TIMESTAMP HOST APP PROCID MSGID SD [SP MSG]`; the cursor is after `1 `.
    private static func rfc5424(_ c: inout Cursor, priority: Int?, raw: String) throws(SyslogParseError) -> SyslogMessage {
        guard let stamp = c.token() else { throw .truncated }
        let timestamp: Date?
        if stamp.elementsEqual([ASCII.dash]) {
            timestamp = nil
        } else {
            guard let date = RFC3339.date(stamp) else { throw .badTimestamp }
            timestamp = date
        }
        var fields: [String?] = []
        for _ in 0..<4 {
            guard c.skip(ASCII.space), let field = c.token() else { throw .truncated }
            fields.append(field.elementsEqual([ASCII.dash]) ? nil : String(decoding: field, as: UTF8.self))
        }
        guard c.skip(ASCII.space) else { throw .truncated }
        let structuredData = try c.structuredData()
        var message = ""
        if !c.atEnd {
            guard c.skip(ASCII.space) else { throw .unrecognised }
            c.skipBOM()
            message = c.restString()
        }
        return SyslogMessage(
            format: .rfc5424, priority: priority, timestamp: timestamp, host: fields[0], app: fields[1], processID: fields[2],
            messageID: fields[3], structuredData: structuredData, message: message, raw: raw)
    }

    /// `TAG[pid]: MSG` after the host; a line without a recognisable tag keeps all of it as the message.
    private static func rfc3164(_ c: inout Cursor, priority: Int?, timestamp: Date, host: String, raw: String) -> SyslogMessage {
        _ = c.skip(ASCII.space)
        var tagged = c
        let tagStart = tagged.index
        while let byte = tagged.peek, ASCII.isTagCharacter(byte), tagged.index - tagStart < 48 { tagged.index += 1 }
        let tag = tagged.bytes[tagStart..<tagged.index]
        var processID: String?
        if tagged.peek == UInt8(ascii: "[") {
            let pidStart = tagged.index + 1
            if let close = tagged.bytes[pidStart...].firstIndex(of: UInt8(ascii: "]")), close - pidStart <= 32 {
                processID = String(decoding: tagged.bytes[pidStart..<close], as: UTF8.self)
                tagged.index = close + 1
            }
        }
        guard !tag.isEmpty, tagged.skip(UInt8(ascii: ":")) else {
            return SyslogMessage(format: .rfc3164, priority: priority, timestamp: timestamp, host: host, message: c.restString(), raw: raw)
        }
        _ = tagged.skip(ASCII.space)
        return SyslogMessage(
            format: .rfc3164, priority: priority, timestamp: timestamp, host: host, app: String(decoding: tag, as: UTF8.self),
            processID: processID, message: tagged.restString(), raw: raw)
    }
}

// MARK: - Lexing

private enum ASCII {
    static let space = UInt8(ascii: " ")
    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")
    static let dash = UInt8(ascii: "-")
    static let dot = UInt8(ascii: ".")
    static let colon = UInt8(ascii: ":")

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    static func isWhitespace(_ b: UInt8) -> Bool { b == space || b == lf || b == cr || b == UInt8(ascii: "\t") || b == 0 }
    static func isTagCharacter(_ b: UInt8) -> Bool {
        isDigit(b) || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z")) || b == UInt8(ascii: "_")
            || b == dash || b == dot || b == UInt8(ascii: "/")
    }

    static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for b in digits {
            guard isDigit(b) else { return nil }
            value = value * 10 + Int(b - UInt8(ascii: "0"))
        }
        return value
    }
}

private struct Cursor {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }
    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func skip(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    /// Bytes up to the next space or the end; nil when empty.
    mutating func token() -> ArraySlice<UInt8>? {
        let start = index
        while let b = peek, b != ASCII.space { index += 1 }
        return index > start ? bytes[start..<index] : nil
    }

    func restString() -> String { String(decoding: bytes[min(index, bytes.count)...], as: UTF8.self) }

    mutating func skipBOM() {
        if bytes[index...].starts(with: [0xEF, 0xBB, 0xBF]) { index += 3 }
    }

    /// `<PRI>` if present: one to three digits, 0…191, no leading zero.
    mutating func priority() throws(SyslogParseError) -> Int? {
        guard skip(UInt8(ascii: "<")) else { return nil }
        let start = index
        while let b = peek, ASCII.isDigit(b), index - start < 4 { index += 1 }
        let digits = bytes[start..<index]
        guard (1...3).contains(digits.count), digits.count == 1 || digits.first != UInt8(ascii: "0"),
            let value = ASCII.number(digits), value <= 191, skip(UInt8(ascii: ">"))
        else { throw .badPriority }
        return value
    }

    var startsWithVersion1: Bool {
        index + 1 < bytes.count && bytes[index] == UInt8(ascii: "1") && bytes[index + 1] == ASCII.space
    }

    /// Whether the next token is a Meraki epoch (`1386337316.207232138`; the fraction tells it from a PROCID or a count).
    var epochAhead: Bool {
        var probe = self
        guard let token = probe.token(), let epoch = Epoch.parse(token) else { return false }
        return epoch.hasFraction
    }

    var monthAhead: Bool {
        index + 3 < bytes.count && BSD.month(bytes[index..<index + 3]) != nil && bytes[index + 3] == ASCII.space
    }

    /// `Mmm dd hh:mm:ss` (day space-padded or not).
    mutating func bsdTimestamp(receivedAt: Date) throws(SyslogParseError) -> Date {
        guard let month = BSD.month(bytes[index..<index + 3]) else { throw .unrecognised }
        index += 4
        _ = skip(ASCII.space)
        let dayStart = index
        while let b = peek, ASCII.isDigit(b), index - dayStart < 3 { index += 1 }
        guard let day = ASCII.number(bytes[dayStart..<index]), index - dayStart <= 2, skip(ASCII.space) else { throw .truncated }
        guard index + 8 <= bytes.count else { throw .truncated }
        let time = bytes[index..<index + 8]
        guard time[time.startIndex + 2] == ASCII.colon, time[time.startIndex + 5] == ASCII.colon,
            let hour = ASCII.number(time.prefix(2)), let minute = ASCII.number(time.dropFirst(3).prefix(2)),
            let second = ASCII.number(time.suffix(2))
        else { throw .truncated }
        index += 8
        guard let date = BSD.date(month: month, day: day, hour: hour, minute: minute, second: second, receivedAt: receivedAt) else {
            throw .badTimestamp
        }
        return date
    }

    /// `-` or one or more `[id param="value" …]`, honouring `\"`, `\\` and `\]` inside values.
    mutating func structuredData() throws(SyslogParseError) -> String? {
        if skip(ASCII.dash) { return nil }
        guard peek == UInt8(ascii: "[") else { throw .unrecognised }
        let start = index
        while peek == UInt8(ascii: "[") {
            index += 1
            var quoted = false
            var closed = false
            while let b = peek {
                index += 1
                if quoted {
                    if b == UInt8(ascii: "\\") {
                        index += 1
                    } else if b == UInt8(ascii: "\"") {
                        quoted = false
                    }
                } else if b == UInt8(ascii: "\"") {
                    quoted = true
                } else if b == UInt8(ascii: "]") {
                    closed = true
                    break
                }
            }
            guard closed else { throw .truncated }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }
}

// MARK: - Dates

private enum Epoch {
    /// `digits[.digits]` as a date, and whether it had a fraction.
    static func parse(_ token: ArraySlice<UInt8>) -> (date: Date, hasFraction: Bool)? {
        let dot = token.firstIndex(of: ASCII.dot)
        let whole = token[..<(dot ?? token.endIndex)]
        guard (1...12).contains(whole.count), let seconds = ASCII.number(whole) else { return nil }
        var nanos = 0
        if let dot {
            let fraction = token[(dot + 1)...]
            guard (1...9).contains(fraction.count), let value = ASCII.number(fraction) else { return nil }
            nanos = value * Int(pow(10, Double(9 - fraction.count)))
        }
        return (Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9), dot != nil)
    }

    static func date(_ token: ArraySlice<UInt8>) -> Date? { parse(token)?.date }
}

private enum CivilDate {
    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func year(of date: Date) -> Int {
        // Inverse of `days` for the year only, good for any date after 1970.
        var year = 1970 + Int(date.timeIntervalSince1970 / 31_556_952)
        while Double(days(year: year, month: 1, day: 1)) * 86_400 > date.timeIntervalSince1970 { year -= 1 }
        while Double(days(year: year + 1, month: 1, day: 1)) * 86_400 <= date.timeIntervalSince1970 { year += 1 }
        return year
    }

    static func date(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Double) -> Date? {
        guard (1...12).contains(month), (1...daysInMonth(year: year, month: month)).contains(day), (0...23).contains(hour),
            (0...59).contains(minute), second >= 0, second < 61
        else { return nil }
        let seconds = Double(days(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60) + second
        return Date(timeIntervalSince1970: seconds)
    }
}

private enum BSD {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].map { Array($0.utf8) }

    static func month(_ name: ArraySlice<UInt8>) -> Int? {
        let lower = name.map { $0 | 0x20 }
        return months.firstIndex(of: lower).map { $0 + 1 }
    }

    static func date(month: Int, day: Int, hour: Int, minute: Int, second: Int, receivedAt: Date) -> Date? {
        let year = CivilDate.year(of: receivedAt)
        // Feb 29 is only valid in some years, so try the year before as well before giving up.
        for candidate in [year, year - 1] {
            guard let date = CivilDate.date(year: candidate, month: month, day: day, hour: hour, minute: minute, second: Double(second))
            else { continue }
            if date.timeIntervalSince(receivedAt) <= 86_400 { return date }
        }
        return nil
    }
}

private enum RFC3339 {
    /// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    static func date(_ token: ArraySlice<UInt8>) -> Date? {
        let t = Array(token)
        guard t.count >= 20, t[4] == ASCII.dash, t[7] == ASCII.dash, t[10] | 0x20 == UInt8(ascii: "t"), t[13] == ASCII.colon,
            t[16] == ASCII.colon,
            let year = ASCII.number(t[0..<4]), let month = ASCII.number(t[5..<7]), let day = ASCII.number(t[8..<10]),
            let hour = ASCII.number(t[11..<13]), let minute = ASCII.number(t[14..<16]), let whole = ASCII.number(t[17..<19])
        else { return nil }
        var i = 19
        var second = Double(whole)
        if t[i] == ASCII.dot {
            let start = i + 1
            i = start
            while i < t.count, ASCII.isDigit(t[i]) { i += 1 }
            guard (1...9).contains(i - start), let fraction = ASCII.number(t[start..<i]) else { return nil }
            second += Double(fraction) / pow(10, Double(i - start))
        }
        guard i < t.count else { return nil }
        var offset = 0
        if t[i] | 0x20 == UInt8(ascii: "z") {
            guard i + 1 == t.count else { return nil }
        } else {
            guard t[i] == UInt8(ascii: "+") || t[i] == ASCII.dash, i + 6 == t.count, t[i + 3] == ASCII.colon,
                let offsetHours = ASCII.number(t[(i + 1)..<(i + 3)]), let offsetMinutes = ASCII.number(t[(i + 4)..<(i + 6)]),
                offsetHours <= 23, offsetMinutes <= 59
            else { return nil }
            offset = (offsetHours * 3_600 + offsetMinutes * 60) * (t[i] == ASCII.dash ? -1 : 1)
        }
        guard let local = CivilDate.date(year: year, month: month, day: day, hour: hour, minute: minute, second: second) else {
            return nil
        }
        return local.addingTimeInterval(TimeInterval(-offset))
    }
}
