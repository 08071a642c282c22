import Foundation

extension InMemoryAlertStore {
    public func holdLeadership(_ role: String, holder: String, ttl: TimeInterval, now: Date, takeOver: Bool) async throws -> Bool {
        try await exclusive { tables in
            if let current = tables.leadership[role], current.holder != holder, current.until > now, !takeOver { return false }
            tables.leadership[role] = (holder, now.addingTimeInterval(ttl))
            return true
        }
    }

    public func resignLeadership(_ role: String, holder: String) async throws {
        try await exclusive { tables in
            if tables.leadership[role]?.holder == holder { tables.leadership[role] = nil }
        }
    }

    public func leader(_ role: String, now: Date) async throws -> String? {
        read { tables in tables.leadership[role].flatMap { $0.until > now ? $0.holder : nil } }
    }
}
