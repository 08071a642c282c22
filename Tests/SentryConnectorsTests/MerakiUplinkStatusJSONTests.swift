import Foundation
import SentryConnectors
import SentryCore
import SentryDetect
import SentryTestSupport
import Testing

extension Meraki {
    /// The fast reader of uplink statuses agrees with the `Decodable` one, field by field.
    @Suite struct UplinkStatusJSONTests {
        static let sample = CoreFixtures.shared.appendingPathComponent("specs/meraki/samples/getOrganizationApplianceUplinkStatuses.response.json")

        func both(_ text: String) -> ([MerakiUplinkStatus]?, [MerakiUplinkStatus]?) {
            let data = Data(text.utf8)
            let decoded =
                (try? JSONDecoder().decode([MerakiUplinkStatus].self, from: data))
                ?? (try? JSONDecoder().decode(MerakiUplinkStatus.self, from: data)).map { [$0] }
            return (decoded, MerakiUplinkStatus.list(from: Array(text.utf8)))
        }

        @Test func theSpecSampleReadsTheSame() throws {
            let text = try String(contentsOf: Self.sample, encoding: .utf8)
            let (decoded, fast) = both(text)
            #expect(decoded != nil)
            #expect(fast == decoded)
        }

        @Test(arguments: [
            #"{"networkId":"N1","serial":"Q1","uplinks":[{"interface":"wan1","status":"active","publicIp":"198.51.100.1"}]}"#,
            #"[{"networkId":"N1","serial":"Q1","lastReportedAt":"2026-11-22T09:00:00Z","uplinks":[]}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":null,"model":42}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":[{"interface":"cellular","iccid":8901260,"signalType":1.5}]}]"#,
            #"[{"networkId":"N1","serial":"Q1","highAvailability":{"enabled":"yes","role":"primary"}}]"#,
            #"[{"networkId":"N1","serial":"Q1","highAvailability":{"enabled":true}}]"#,
            #"[{"networkId":"N1","serial":7}]"#,
            #"[{"serial":"Q1"}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":[{"status":"active"}]}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":{"interface":"wan1"}}]"#,
            #"[]"#, #"[1]"#, #"{"#, #""oops""#,
        ])
        func oddShapesReadTheSame(text: String) {
            let (decoded, fast) = both(text)
            #expect(fast == decoded, "\(text)")
        }

        // MARK: The byte scanner of replay (`UplinkStatusScanner`) against the full reader

        /// The reports the full reader gives (`MerakiUplinkStatus.list`, then `UplinkReport.init`), and the scanner's
        /// (`unsupported` left as such: the caller then asks the full reader).
        func scanned(_ text: String, single: Bool = false) -> (slow: [UplinkReport]?, fast: UplinkStatusScanner.Result) {
            let bytes = Array(text.utf8)
            let slow: [UplinkReport]?
            if single {
                slow = JSONValue.parse(bytes).flatMap(MerakiUplinkStatus.init(json:)).map { [UplinkReport($0)] }
            } else {
                slow = MerakiUplinkStatus.list(from: bytes)?.map(UplinkReport.init)
            }
            let fast = bytes.withUnsafeBufferPointer { UplinkStatusScanner.scan($0, single: single) }
            return (slow, fast)
        }

        func expectSame(_ text: String, single: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
            let (slow, fast) = scanned(text, single: single)
            switch fast {
            case .reports(let reports): #expect(reports == slow, "\(text)", sourceLocation: sourceLocation)
            case .notStatuses: #expect(slow == nil, "\(text)", sourceLocation: sourceLocation)
            case .unsupported:
                // Only text that needs unescaping or UTF-8 checks goes the slow way.
                #expect(text.utf8.contains { $0 >= 0x80 || $0 == UInt8(ascii: "\\") }, "\(text)", sourceLocation: sourceLocation)
            }
        }

        @Test func theScannerReadsTheSpecSampleAsTheFullReader() throws {
            let text = try String(contentsOf: Self.sample, encoding: .utf8)
            let (slow, fast) = scanned(text)
            #expect(slow != nil)
            #expect(fast == .reports(slow ?? []))
        }

        @Test(arguments: [
            #"{"networkId":"N1","serial":"Q1","uplinks":[{"interface":"wan1","status":"active","publicIp":"198.51.100.1"}]}"#,
            #"[{"networkId":"N1","serial":"Q1","lastReportedAt":"2026-11-22T09:00:00Z","uplinks":[]}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":null,"model":42}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":[{"interface":"cellular","iccid":8901260,"signalType":1.5}]}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":[{"interface":"cellular","status":7,"ip":1.5,"publicIp":-3e2}]}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":[{"interface":"wan1","status":true,"ip":null,"publicIp":{"a":[1]}}]}]"#,
            #"[{"networkId":"N1","serial":"Q1","highAvailability":{"enabled":"yes","role":"primary"}}]"#,
            #"[{"networkId":"N1","serial":"Q1","highAvailability":{"enabled":true}}]"#,
            #"[{"networkId":"N1","serial":7}]"#,
            #"[{"serial":"Q1"}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":[{"status":"active"}]}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":{"interface":"wan1"}}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":[1]}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":"none"}]"#,
            #"[]"#, #"[1]"#, #"{"#, #""oops""#, #"[{}]"#, #"null"#, #""#, #"  "#,
            // Duplicate keys: the first wins; a bad value under the second still spoils the text.
            #"[{"networkId":"N1","networkId":"N2","serial":"Q1","serial":5,"lastReportedAt":"2026-11-22T09:00:00Z","lastReportedAt":"x"}]"#,
            #"[{"networkId":5,"networkId":"N2","serial":"Q1"}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":null,"uplinks":[{"interface":"wan1"}]}]"#,
            #"[{"networkId":"N1","serial":"Q1","uplinks":[{"interface":"wan1","status":"a","status":"b"}]}]"#,
            #"[{"networkId":"N1","serial":"Q1","model":tru}]"#,
            // Trailing commas are tolerated, as by the tree reader; other slips are not.
            #"[{"networkId":"N1","serial":"Q1","uplinks":[{"interface":"wan1",},],},]"#,
            #"[{"networkId":"N1","serial":"Q1"},,]"#, #"[{"networkId":"N1","serial":"Q1"}] x"#, #"[{"networkId":"N1" "serial":"Q1"}]"#,
            #"[{"networkId":"N1","serial":"Q1","x":1e400}]"#, #"[{"networkId":"N1","serial":"Q1","x":01}]"#,
            #"[{"networkId":"N1","serial":"Q1","x":-}]"#, #"[{"networkId":"N1","serial":"Q1","x":1.}]"#,
            #"[{"networkId":"N1","serial":"Q1","lastReportedAt":1790000000}]"#,
            #"[{"networkId":"N1","serial":"Q1","lastReportedAt":"2026-11-22T09:00:00.123+01:00"}]"#,
            #"[{"networkId":"N1","serial":"Q1","lastReportedAt":"yesterday"}]"#,
            "[{\"networkId\":\"N1\",\"serial\":\"Q1\",\"model\":\"a\u{01}b\"}]",
            " \n[ {\"networkId\" : \"N1\" ,\t\"serial\":\"Q1\" } ]\r\n",
            // Left to the full reader: escapes, non-ASCII text, a byte-order mark.
            #"[{"networkId":"N\u0031","serial":"Q1"}]"#, #"[{"networkId":"N1","serial":"Q1","model":"caf\u00e9"}]"#,
            "[{\"networkId\":\"N1\",\"serial\":\"Q1\",\"notes\":\"café\"}]", "\u{FEFF}[{\"networkId\":\"N1\",\"serial\":\"Q1\"}]",
            #"[{"networkId":"N1","serial":"Q1","bad":"\q"}]"#,
        ])
        func theScannerReadsOddShapesAsTheFullReader(text: String) {
            expectSame(text)
            expectSame(text, single: true)
        }

        @Test func theScannerStopsAtTheSameDepth() {
            for depth in [510, 511, 512, 513] {
                let nested = String(repeating: "[", count: depth - 2) + String(repeating: "]", count: depth - 2)
                expectSame(#"[{"networkId":"N1","serial":"Q1","x":"# + nested + "}]")
            }
        }

        /// Polls like `bench/generate_uplinks.py` writes, with fields dropped, retyped and reordered at random.
        @Test func theScannerReadsRandomPollsAsTheFullReader() {
            var random = SplitMix64(seed: 11)
            let values = [#""active""#, #""failed""#, #""not connected""#, "null", "3", "-1.25", "true", "[]", "{}", #"" 203.0.113.1 ""#, #""""#]
            for _ in 0..<300 {
                var statuses: [String] = []
                for n in 0..<Int.random(in: 0...4, using: &random) {
                    var fields = [
                        #""networkId":"N_\#(n)""#, #""serial":"Q2XX-\#(n)""#, #""model":"MX68C""#,
                        #""lastReportedAt":"2026-11-0\#(Int.random(in: 1...9, using: &random))T00:00:00Z""#,
                        #""highAvailability":{"enabled":false,"role":"primary"}"#,
                    ]
                    var uplinks: [String] = []
                    for interface in ["wan1", "wan2", "cellular"].shuffled(using: &random).prefix(Int.random(in: 0...3, using: &random)) {
                        var parts = [#""interface":"\#(interface)""#, #""gateway":"10.0.0.1""#]
                        for key in ["status", "ip", "publicIp"] where Bool.random(using: &random) {
                            parts.append(#""\#(key)":\#(values.randomElement(using: &random)!)"#)
                        }
                        if Int.random(in: 0..<20, using: &random) == 0 { parts.removeFirst() }
                        uplinks.append("{" + parts.shuffled(using: &random).joined(separator: ",") + "}")
                    }
                    fields.append(#""uplinks":[\#(uplinks.joined(separator: ","))]"#)
                    if Int.random(in: 0..<15, using: &random) == 0 { fields.removeFirst(Int.random(in: 1...2, using: &random)) }
                    if Int.random(in: 0..<15, using: &random) == 0 { fields.append(#""serial":\#(values.randomElement(using: &random)!)"#) }
                    statuses.append("{" + fields.shuffled(using: &random).joined(separator: ",") + "}")
                }
                let text = "[" + statuses.joined(separator: ",") + "]"
                expectSame(text)
                if let first = statuses.first { expectSame(first, single: true) }
            }
        }
    }
}
