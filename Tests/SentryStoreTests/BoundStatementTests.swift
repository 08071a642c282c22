import Foundation
import GRDB
import Testing

@testable import SentryStore

/// The writer's hot statements bind through SQLite's C API; what they write and read must be what GRDB's
/// `execute(arguments:)` and `fetchOne` would, and their failures must be GRDB's errors with SQLite's codes.
@Suite struct BoundStatementTests {
    private func database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT, real REAL, int INTEGER)")
        }
        return queue
    }

    private func insert(_ db: Database, id: Int64, text: String?, real: Double?, int: Int?) throws {
        var insert = try BoundStatement(db, sql: "INSERT INTO t (id, text, real, int) VALUES (?, ?, ?, ?)")
        insert.bind(id)
        insert.bind(text)
        insert.bind(real)
        insert.bind(int)
        try insert.execute()
    }

    @Test func valuesReadBackAsGRDBReadsThem() throws {
        let queue = try database()
        let text = "Ünïcode \"quoted\" 🛡️ e\u{301} \\ end"
        try queue.write { db in
            try insert(db, id: 1, text: text, real: 1_796_425_307.457_712_4, int: -42)
            try insert(db, id: 2, text: nil, real: nil, int: nil)
            try insert(db, id: Int64.max, text: "", real: -0.5, int: Int.min)
        }
        try queue.read { db in
            let one = try #require(try Row.fetchOne(db, sql: "SELECT * FROM t WHERE id = 1"))
            #expect(one["text"] as String == text)
            #expect(one["real"] as Double == 1_796_425_307.457_712_4)
            #expect(one["int"] as Int == -42)
            let two = try #require(try Row.fetchOne(db, sql: "SELECT * FROM t WHERE id = 2"))
            #expect(two["text"] as String? == nil)
            #expect(two["real"] as Double? == nil)
            #expect(two["int"] as Int? == nil)
            let max = try #require(try Row.fetchOne(db, sql: "SELECT * FROM t WHERE id = ?", arguments: [Int64.max]))
            #expect(max["text"] as String? == "")
            #expect(max["int"] as Int == Int.min)

            var select = try BoundStatement(db, sql: "SELECT text, id FROM t WHERE id = ?")
            select.bind(Int64(1))
            #expect(try select.first { try $0.string(0) } == text)
        }
    }

    @Test func bytesBindAsTheTextTheyEncode() throws {
        let queue = try database()
        let json = Array(#"{"ip":"203.0.113.7","note":"čeština"}"#.utf8)
        try queue.write { db in
            for (id, bytes) in [(Int64(1), json), (2, [])] {
                var insert = try BoundStatement(db, sql: "INSERT INTO t (id, text) VALUES (?, ?)")
                insert.bind(id)
                insert.bind(utf8: bytes)
                try insert.execute()
            }
        }
        let (text, type, emptyType) = try queue.read { db in
            (
                try String.fetchOne(db, sql: "SELECT text FROM t WHERE id = 1"),
                try String.fetchOne(db, sql: "SELECT typeof(text) FROM t WHERE id = 1"),
                try String.fetchOne(db, sql: "SELECT typeof(text) FROM t WHERE id = 2")
            )
        }
        #expect(text == String(decoding: json, as: UTF8.self))
        #expect(type == "text")
        // Empty bytes are the empty text, never NULL.
        #expect(emptyType == "text")
    }

    @Test func rowsAndFirstReadEveryRowOrNone() throws {
        let queue = try database()
        try queue.write { db in
            for id in 1...5 { try insert(db, id: Int64(id), text: "row \(id)", real: nil, int: id * 10) }
            var select = try BoundStatement(db, sql: "SELECT id, text FROM t WHERE int >= ? ORDER BY id")
            select.bind(30)
            let rows = try select.rows { (id: try $0.int64(0), text: try $0.string(1)) }
            #expect(rows.map(\.id) == [3, 4, 5])
            #expect(rows.map(\.text) == ["row 3", "row 4", "row 5"])
            var none = try BoundStatement(db, sql: "SELECT text FROM t WHERE id = ?")
            none.bind(Int64(99))
            #expect(try none.first { try $0.string(0) } == nil)
        }
    }

    @Test func aNullWhereAValueIsRequiredThrows() throws {
        let queue = try database()
        try queue.write { db in
            try insert(db, id: 1, text: nil, real: nil, int: nil)
            var select = try BoundStatement(db, sql: "SELECT text, int FROM t WHERE id = 1")
            #expect(throws: DatabaseError.self) { try select.first { try $0.string(0) } }
            select = try BoundStatement(db, sql: "SELECT text, int FROM t WHERE id = 1")
            #expect(throws: DatabaseError.self) { try select.first { try $0.int64(1) } }
        }
    }

    @Test func aConflictIsGRDBsErrorWithTheExtendedCodeAndTheStatementStaysUsable() throws {
        let queue = try database()
        try queue.write { db in
            try insert(db, id: 1, text: "first", real: nil, int: nil)
            let error = try #require(throws: DatabaseError.self) { try insert(db, id: 1, text: "again", real: nil, int: nil) }
            #expect(error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY)
            #expect(error.resultCode == .SQLITE_CONSTRAINT)
            #expect(error.sql?.hasPrefix("INSERT INTO t") == true)
            // The same cached statement, reset after the failure, runs again; so does GRDB's own use of it.
            try insert(db, id: 2, text: "second", real: nil, int: nil)
            try db.cachedStatement(sql: "INSERT INTO t (id, text, real, int) VALUES (?, ?, ?, ?)").execute(arguments: [3, "grdb", nil, nil])
            #expect(try String.fetchAll(db, sql: "SELECT text FROM t ORDER BY id") == ["first", "second", "grdb"])
        }
    }

    @Test func aParameterLeftUnboundIsRefusedBeforeTheStep() throws {
        let queue = try database()
        try queue.write { db in
            var insert = try BoundStatement(db, sql: "INSERT INTO t (id, text) VALUES (?, ?)")
            insert.bind(Int64(1))
            let error = try #require(throws: DatabaseError.self) { try insert.execute() }
            #expect(error.resultCode == .SQLITE_RANGE)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 0)
            insert.bind("now bound")
            try insert.execute()
            #expect(try String.fetchOne(db, sql: "SELECT text FROM t WHERE id = 1") == "now bound")
        }
    }
}
