import Foundation
import Hummingbird

// The framework's ceiling for bench/run.sh: one Hummingbird 2 route that reads the request body and answers a
// short string, nothing else (no verification, no parsing, no metrics, no logging per request). The slash-command
// row is printed against it. Usage: sentry-bench-ceiling PORT
guard CommandLine.arguments.count == 2, let port = Int(CommandLine.arguments[1]), (1...65535).contains(port) else {
    FileHandle.standardError.write(Data("usage: sentry-bench-ceiling PORT (1-65535)\n".utf8))
    exit(64)
}
let router = Router()
router.post("/slack/commands") { request, _ -> String in
    let body = try await request.body.collect(upTo: 64 * 1024)
    return body.readableBytes > 0 ? "ok" : "empty"
}
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
