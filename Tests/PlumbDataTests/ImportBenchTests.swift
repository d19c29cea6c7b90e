// `bench import` on the HH-RLHF sample with the small tokenizer: every record read is counted, and the
// tokens are the chosen response with its prompt plus the rejected response, for every comparison.
import Foundation
@testable import PlumbData
import PlumbTestSupport
import XCTest

final class ImportBenchTests: XCTestCase {
    func testCountsEveryRecordAndBothResponses() throws {
        let sample = try sharedData("hh-rlhf/harmless-base-test.head1500.jsonl.gz")
        let small = try SmallTokenizer.get()
        var o = ImportBench.Options(input: sample, model: small.modelPath)
        (o.template, o.repeats) = (.plumbline, 1)
        let r = try ImportBench.run(o)
        let imported = try importFiles([sample])
        XCTAssertEqual(r.records, imported.sources.reduce(0) { $0 + $1.recordsRead })
        XCTAssertEqual(r.records, 1500)
        let templated = try TemplatedTokenizer(tokenizer: small.tokenizer, template: .plumbline)
        let expected = try imported.comparisons.reduce(0) {
            $0 + (try templated.encode(prompt: $1.prompt.messages, response: $1.chosen).tokens.count) + (try templated.encodeResponse($1.rejected).count)
        }
        XCTAssertEqual(r.tokens, expected)
        XCTAssertEqual(r.bosID, templated.info.bosID)
        XCTAssertEqual(r.importRecordsPerSecond * r.importSeconds, Double(r.records), accuracy: 1e-6)
        XCTAssertEqual(r.recordsPerSecond, Double(r.records) / (r.importSeconds + r.tokeniseSeconds), accuracy: 1e-9 * r.recordsPerSecond)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["bench", "input", "template", "records", "tokens", "bos_id", "eos_id", "special_tokens", "import_seconds",
                                        "tokenise_seconds", "import_records_per_second", "tokenise_records_per_second", "records_per_second",
                                        "peak_rss_bytes"])
    }
}
