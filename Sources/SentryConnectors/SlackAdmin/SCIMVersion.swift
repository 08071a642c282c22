/// The SCIM protocol a base URL speaks: Slack serves SCIM 1.1 under `/scim/v1` and SCIM 2.0 under `/scim/v2`.
public enum SCIMVersion: String, Sendable, Equatable, CaseIterable {
    case v1
    case v2

    /// `…/scim/v1` is 1.1; anything else is taken as 2.0, the version Slack documents today.
    public init(baseURL: String) {
        var path = Substring(baseURL)
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
        while path.hasSuffix("/") { path = path.dropLast() }
        let last = path.split(separator: "/").last.map { $0.lowercased() }
        self = last == "v1" ? .v1 : .v2
    }

    /// The schema URN of a user resource.
    public var userSchema: String {
        switch self {
        case .v1: "urn:scim:schemas:core:1.0"
        case .v2: "urn:ietf:params:scim:schemas:core:2.0:User"
        }
    }

    /// The body of `PATCH /Users/{id}` that reactivates a user. Written out byte for byte: 2.0 wants a PatchOp
    /// message, 1.1 a partial resource.
    public var reactivationBody: String {
        switch self {
        case .v1:
            #"{"schemas":["urn:scim:schemas:core:1.0"],"active":true}"#
        case .v2:
            #"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":true}]}"#
        }
    }

    /// Slack's guest extension (multi- and single-channel guests), keyed as in the user shapes.
    var guestExtension: String {
        switch self {
        case .v1: "urn:scim:schemas:extension:slack:guest:1.0"
        case .v2: "urn:ietf:params:scim:schemas:extension:slack:guest:2.0:User"
        }
    }
}
