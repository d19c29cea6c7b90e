// `bench shards` at its smallest: a generated JSONL repeated to 1 MB, written and read back through
// the shards and through gzip. What the report counts must follow from the input (copies, records,
// bytes), the ratios from the sizes, and the JSON field names stay the ones docs/store.md reads.
import Foundation
@testable import PlumbStore
import XCTest

final class ShardsBenchTests: XCTestCase {
    func testCountsFollowFromTheInput() throws {
        guard ProcessTiming.findExecutable("gzip") != nil else { throw XCTSkip("gzip is not installed") }
        let dir = try makeScratchDirectory(self)
        let lines = (0..<300).map { i in String(decoding: try! JSONEncoder().encode(sampleRecord(i)), as: UTF8.self) }
        let text = lines.joined(separator: "\n") + "\n"
        let input = dir.appendingPathComponent("in.jsonl")
        try Data(text.utf8).write(to: input)
        var o = ShardsBench.Options()
        (o.input, o.targetMb, o.threads, o.readThreads, o.repeats, o.workDir) = (input.path, 1, 0, 1, 1, dir.path)
        let r = try ShardsBench.run(o)
        let size = text.utf8.count
        XCTAssertEqual(r.inputBytes, size)
        XCTAssertEqual(r.copies, (1_000_000 + size - 1) / size, "the fewest copies that reach 1 MB")
        XCTAssertEqual(r.rawBytes, size * r.copies)
        XCTAssertEqual(r.records, 300 * r.copies, "every line of every copy is a record")
        XCTAssertGreaterThanOrEqual(r.shards, 1)
        XCTAssertGreaterThan(r.ratio, 1, "repeated JSON compresses")
        XCTAssertGreaterThan(r.gzipRatio, 1)
        XCTAssertEqual(r.ratioVsGzip, r.ratio / r.gzipRatio, accuracy: 1e-12)
        XCTAssertEqual(r.readSpeedupVsGzip1Thread * r.gzipReadMBs, r.readMBs1Thread, accuracy: 1e-9 * r.readMBs1Thread)
        XCTAssertGreaterThan(r.peakRSSBytes, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["in.jsonl"], "the scratch directory is removed")
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as! [String: Any]
        XCTAssertEqual(json["bench"] as? String, "shards")
        XCTAssertTrue(Set(json.keys).isSuperset(of: ["write_mb_s", "read_mb_s", "read_mb_s_1_thread", "ratio", "ratio_one_copy", "gzip_ratio",
                                                     "read_speedup_vs_gzip", "read_cpu_advantage_vs_gzip_1_thread", "load_average_1min", "note"]))
        XCTAssertEqual(json.count, 32, "the fields bench shards has always printed")
    }

    func testAMissingInputIsNamed() throws {
        var o = ShardsBench.Options()
        o.input = "/nonexistent/plumb-bench.jsonl"
        XCTAssertThrowsError(try ShardsBench.run(o)) { XCTAssertTrue("\($0)".contains("/nonexistent/plumb-bench.jsonl: not found"), "\($0)") }
    }
}
