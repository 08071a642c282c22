import Foundation
import SentryStore
import Testing

/// Every store the contract suites run on. A new store (PostgreSQL) adds a case here and passes the same tests.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case memory

    var testDescription: String { rawValue }

    func make() async throws -> any SentryStorage {
        switch self {
        case .sqlite: try SQLiteAlertStore.inMemory()
        case .memory: InMemoryAlertStore()
        }
    }
}
