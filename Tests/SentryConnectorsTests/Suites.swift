import Testing

// Groups the outbound-HTTP suites, so `swift test --filter Connectors` selects them.
@Suite enum Connectors {}

/// Groups the Meraki suites, so `swift test --filter Meraki` selects them.
@Suite enum Meraki {}
