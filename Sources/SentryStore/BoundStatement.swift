import GRDB
import GRDBSQLite

/// One of the writer's hot statements (a transition's writes, the lookups of an intake step), bound and stepped
/// through SQLite's C API on GRDB's cached statement. `execute(arguments:)` boxes every value into a
/// `StatementArguments` of existentials, validates them and notifies observers; on the webhook path that was a
/// tenth of the writer's time. The store registers no observers, and every parameter is bound before each step,
/// so GRDB's later use of the same cached statement (which always binds its own arguments first) is unaffected.
struct BoundStatement {
    private let statement: Statement
    private let handle: SQLiteStatement
    private let connection: SQLiteConnection?
    private var next: CInt = 1

    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
        connection = db.sqliteConnection
        sqlite3_reset(handle)
    }

    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    mutating func bind(_ value: String?) {
        defer { next += 1 }
        guard var value else { return bindNull() }
        value.withUTF8 { bytes in _ = sqlite3_bind_text(handle, next, bytes.baseAddress, CInt(bytes.count), Self.transient) }
    }

    /// UTF-8 text already encoded (a stored JSON body), bound as TEXT without making a `String` of it first.
    mutating func bind(utf8 bytes: [UInt8]) {
        defer { next += 1 }
        bytes.withUnsafeBufferPointer { buffer in
            // A zero-length buffer may have no address; SQLite then binds NULL, so give it an empty string instead.
            if buffer.isEmpty {
                _ = sqlite3_bind_text(handle, next, "", 0, Self.transient)
            } else {
                _ = sqlite3_bind_text(
                    handle, next, buffer.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, CInt(buffer.count),
                    Self.transient)
            }
        }
    }

    mutating func bind(_ value: Double?) {
        defer { next += 1 }
        guard let value else { return bindNull() }
        sqlite3_bind_double(handle, next, value)
    }

    mutating func bind(_ value: Int64?) {
        defer { next += 1 }
        guard let value else { return bindNull() }
        sqlite3_bind_int64(handle, next, value)
    }

    mutating func bind(_ value: Int?) { bind(value.map(Int64.init)) }

    private func bindNull() { sqlite3_bind_null(handle, next) }

    /// Steps the statement to its end (a write).
    func execute() throws {
        try checkBound()
        var code = sqlite3_step(handle)
        while code == SQLITE_ROW { code = sqlite3_step(handle) }
        guard code == SQLITE_DONE else { throw failure() }
        sqlite3_reset(handle)
    }

    /// Each row of a query, read by `row` while it is current.
    func rows<T>(_ row: (Columns) throws -> T) throws -> [T] {
        try checkBound()
        var values: [T] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else { throw failure() }
            do {
                values.append(try row(Columns(handle: handle)))
            } catch {
                sqlite3_reset(handle)
                throw error
            }
        }
        sqlite3_reset(handle)
        return values
    }

    /// The first row of a query, if there is one.
    func first<T>(_ row: (Columns) throws -> T) throws -> T? {
        try checkBound()
        let code = sqlite3_step(handle)
        defer { sqlite3_reset(handle) }
        if code == SQLITE_DONE { return nil }
        guard code == SQLITE_ROW else { throw failure() }
        return try row(Columns(handle: handle))
    }

    /// A statement stepped with a parameter left unbound would read NULL or the previous step's value.
    private func checkBound() throws {
        let expected = sqlite3_bind_parameter_count(handle)
        guard next - 1 == expected else {
            throw DatabaseError(resultCode: .SQLITE_RANGE, message: "\(next - 1) values bound for \(expected) parameters", sql: statement.sql)
        }
    }

    /// The error of the failed step, with SQLite's extended code (a primary-key conflict is told from others).
    private func failure() -> DatabaseError {
        let extended = connection.map { sqlite3_extended_errcode($0) } ?? SQLITE_ERROR
        let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        sqlite3_reset(handle)
        return DatabaseError(resultCode: ResultCode(rawValue: extended), message: message, sql: statement.sql)
    }

    /// The current row's columns, by position.
    struct Columns {
        fileprivate let handle: SQLiteStatement

        func isNull(_ index: CInt) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

        func int64(_ index: CInt) throws -> Int64 {
            guard !isNull(index) else { throw Self.null(index) }
            return sqlite3_column_int64(handle, index)
        }

        func string(_ index: CInt) throws -> String {
            guard let text = sqlite3_column_text(handle, index) else { throw Self.null(index) }
            let count = Int(sqlite3_column_bytes(handle, index))
            return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
        }

        private static func null(_ index: CInt) -> DatabaseError {
            DatabaseError(resultCode: .SQLITE_MISMATCH, message: "column \(index) is NULL where a value is required")
        }
    }
}
