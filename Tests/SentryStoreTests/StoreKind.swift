import Foundation
import SentryStore
import SentryTestSupport
import Testing

/// Every store the contract suites run on. A new store adds a case here and passes the same tests.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case memory
    /// A fresh database on the server `SENTRY_TEST_POSTGRES_URL` names (`make test` starts one).
    case postgres

    var testDescription: String { rawValue }

    /// PostgreSQL is always among them, and its cases fail without a server, unless a run by hand says
    /// `SENTRY_TEST_POSTGRES_SKIP=1` (then they are left out, and the run says so once).
    static var allCases: [StoreKind] { PostgresTestDatabase.included ? [.sqlite, .memory, .postgres] : [.sqlite, .memory] }

    func make() async throws -> any SentryStorage {
        switch self {
        case .sqlite: try SQLiteAlertStore.inMemory()
        case .memory: InMemoryAlertStore()
        case .postgres: try await PostgresTestDatabase.store()
        }
    }
}
