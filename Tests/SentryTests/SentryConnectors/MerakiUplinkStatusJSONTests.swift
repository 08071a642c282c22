import Foundation
import SentryConnectors
import SentryCore
import Testing

extension Meraki {
    /// The fast reader of uplink statuses agrees with the `Decodable` one, field by field.
    @Suite struct UplinkStatusJSONTests {
        static let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../../shared/specs/meraki/samples/getOrganizationApplianceUplinkStatuses.response.json").standardized

        func both(_ text: String) -> ([MerakiUplinkStatus]?, [MerakiUplinkStatus]?) {
            let data = Data(text.utf8)
            let decoded = (try? JSONDecoder().decode([MerakiUplinkStatus].self, from: data))
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
    }
}
