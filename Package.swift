// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "sentry-platform",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "sentry", targets: ["sentry"]),
        .executable(name: "sentry-bench-ceiling", targets: ["sentry-bench-ceiling"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket.git", from: "1.6.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: [
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(
            name: "CCurl",
            path: "Sources/CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        .target(
            name: "SentryCore",
            dependencies: [
                "COpenSSL",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SentryStore",
            dependencies: [
                "SentryCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The same store contract on PostgreSQL (postgres-nio), for several replicas on one database; only
        // `sentry` and the tests link it, so SQLite-only code stays lean.
        .target(
            name: "SentryPostgres",
            dependencies: [
                "SentryCore",
                "SentryStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The one caller of AlertMachine: every alert change is a transaction over any AlertStore.
        .target(
            name: "SentryEngine",
            dependencies: ["SentryCore", "SentryStore"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SentryConnectors",
            dependencies: [
                "SentryCore",
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SentryDetect",
            dependencies: [
                "SentryCore",
                "SentryStore",
                "SentryEngine",
                "SentryConnectors",
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SentryServer",
            dependencies: [
                "SentryCore",
                "SentryStore",
                "SentryEngine",
                "SentryConnectors",
                "SentryDetect",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "WSClient", package: "swift-websocket"),
            ],
            swiftSettings: swiftSettings
        ),
        // Simulators of Slack and Meraki, loopback helpers and a manual clock: for `sentry demo`, the benchmark's
        // `sentry slack-simulator` and the tests, never for `serve`.
        .target(
            name: "SentryTesting",
            dependencies: [
                "SentryCore",
                "SentryConnectors",
                "SentryServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        // The scripted incident of `sentry demo`, played against SentryTesting's simulators.
        .target(
            name: "SentryDemo",
            dependencies: [
                "SentryCore",
                "SentryStore",
                "SentryEngine",
                "SentryConnectors",
                "SentryDetect",
                "SentryServer",
                "SentryTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "sentry",
            dependencies: [
                "SentryServer",
                "SentryEngine",
                "SentryDetect",
                "SentryPostgres",
                "SentryDemo",
                "SentryTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The bare-framework route bench/run.sh compares the slash-command row with (built in release with the rest).
        .executableTarget(
            name: "sentry-bench-ceiling",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "bench/ceiling",
            swiftSettings: swiftSettings
        ),
        // libFuzzer targets over SentryCore's parsers (see README, "Fuzzing"). The ordinary build makes it a
        // corpus replayer; `make fuzz` builds it with -sanitize=fuzzer,address -DFUZZING.
        .systemLibrary(name: "CLibFuzzer", path: "Sources/CLibFuzzer"),
        .executableTarget(
            name: "SentryFuzz",
            dependencies: ["SentryCore", "CLibFuzzer"],
            swiftSettings: swiftSettings
        ),
        // Fixtures and harnesses that several test targets share (one name for one idea); test targets depend on it,
        // no product does.
        .target(
            name: "SentryTestSupport",
            dependencies: [
                "SentryCore",
                "SentryStore",
                "SentryPostgres",
                "SentryEngine",
                "SentryConnectors",
                "SentryDetect",
                "SentryServer",
                "SentryTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/SentryTestSupport",
            swiftSettings: swiftSettings
        ),
        // One test target per module under test; Tests/Golden holds the golden JSON files they compare.
        .testTarget(
            name: "SentryCoreTests",
            dependencies: [
                "SentryTestSupport",
                "SentryCore",
                "SentryDetect",
                "SentryTesting",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SentryConnectorsTests",
            dependencies: [
                "SentryTestSupport",
                "SentryCore",
                "SentryConnectors",
                "SentryDetect",
                "SentryServer",
                "SentryTesting",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SentryDetectTests",
            dependencies: [
                "SentryTestSupport",
                "SentryCore",
                "SentryStore",
                "SentryConnectors",
                "SentryDetect",
                "SentryServer",
                "SentryTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The store contract on every store (SQLite, in memory, PostgreSQL).
        .testTarget(
            name: "SentryStoreTests",
            dependencies: [
                "SentryTestSupport",
                "SentryCore",
                "SentryStore",
                "SentryPostgres",
                "SentryEngine",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SentryPostgresTests",
            dependencies: [
                "SentryTestSupport",
                "SentryCore",
                "SentryStore",
                "SentryPostgres",
                "SentryEngine",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SentryServerTests",
            dependencies: [
                "SentryTestSupport",
                "SentryCore",
                "SentryStore",
                "SentryPostgres",
                "SentryEngine",
                "SentryConnectors",
                "SentryDetect",
                "SentryServer",
                "SentryTesting",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
