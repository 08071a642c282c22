extension ContainmentAction.Kind {
    /// The kind as the buttons and the modal name it.
    public var title: String {
        switch self {
        case .blockUser: "Block user"
        case .blockIP: "Block IP"
        case .approvedOnly: "Approved devices only"
        }
    }

    /// What must be configured before a containment of this kind can run for real (DESIGN.md §4.2).
    public var requiredSettings: String {
        switch self {
        case .blockUser: "SLACK_ADMIN_TOKEN (an org-admin user token)"
        case .blockIP, .approvedOnly: "MERAKI_API_KEY and MERAKI_ORG_ID"
        }
    }

    /// The one "not configured" sentence: what the button and the slash command answer, and what the runner
    /// and the executor report should such a containment get that far.
    public var notConfigured: String { "\(title) is not set up: set \(requiredSettings)" }
}
