// Writing and reading shard sets: round trip across shards, naming, schemas, determinism, zstdcat.
import Foundation
import XCTest
@testable import PlumbStore

final class RoundTripTests: XCTestCase {
    func testManyRecordsAcrossSeveralShardsRoundTrip() throws {
        let dir = try makeScratchDirectory(self)
        var options = ShardWriter.Options()
        options.maxRecordsPerShard = 700
        options.frameRawBytes = 16 << 10          // several frames per shard
        let files = try writeSamples(3000, to: dir, options: options)
        XCTAssertEqual(files.map(\.file), (0..<5).map { "samples-0000\($0)-of-00005.jsonl.zst" })
        XCTAssertEqual(files.map(\.records), [700, 700, 700, 700, 200])
        XCTAssertTrue(files.allSatisfy { $0.frames > 1 && $0.schemas == ["sample/1": $0.records] })
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        XCTAssertEqual(leftovers, [], "no partial files after finish")

        let reader = ShardReader(files: files.map { dir.appendingPathComponent($0.file) })
        let back = try reader.readAll(SampleRecord.self)
        XCTAssertEqual(back, (0..<3000).map(sampleRecord))
        XCTAssertEqual(reader.recordsRead, 3000)
    }

    func testRollsByRawBytes() throws {
        let dir = try makeScratchDirectory(self)
        var options = ShardWriter.Options()
        options.maxRawBytesPerShard = 20_000
        let files = try writeSamples(1000, to: dir, options: options)
        XCTAssertGreaterThan(files.count, 3)
        XCTAssertTrue(files.allSatisfy { $0.rawBytes <= 20_000 })
        XCTAssertEqual(files.reduce(0) { $0 + $1.records }, 1000)
    }

    func testEmptySetIsOneReadableShardWithNoRecords() throws {
        let dir = try makeScratchDirectory(self)
        let files = try writeSamples(0, to: dir, name: "quarantine")
        XCTAssertEqual(files.map(\.file), ["quarantine-00000-of-00001.jsonl.zst"])
        XCTAssertEqual(files[0].records, 0)
        let reader = try ShardReader(path: dir)
        XCTAssertNil(try reader.nextLine())
    }

    func testSameRecordsGiveSameBytes() throws {
        let a = try makeScratchDirectory(self, "a"), b = try makeScratchDirectory(self, "b")
        let fa = try writeSamples(2000, to: a), fb = try writeSamples(2000, to: b)
        XCTAssertEqual(fa, fb)
        XCTAssertEqual(try Data(contentsOf: a.appendingPathComponent(fa[0].file)),
                       try Data(contentsOf: b.appendingPathComponent(fb[0].file)))
    }

    func testRecordsWithoutSchemaOrWithNewlinesAreRefused() throws {
        let dir = try makeScratchDirectory(self)
        let writer = try ShardWriter(directory: dir, name: "bad")
        XCTAssertThrowsError(try writer.append(jsonLine: #"{"id": 1}"#)) {
            XCTAssertTrue("\($0)".contains("record 1 has no top-level \"schema\""), "\($0)")
        }
        XCTAssertThrowsError(try writer.append(jsonLine: "{\"schema\": \"a/1\",\n\"x\": 2}"))
        XCTAssertThrowsError(try writer.append(jsonLine: #"{"schema": "no-version"}"#))
        XCTAssertThrowsError(try writer.append(jsonLine: #"[1, 2]"#))
        XCTAssertThrowsError(try writer.append(jsonLine: ""))
        try writer.append(jsonLine: #"{"nested": {"schema": "inner/9"}, "schema": "outer/2"}"#)
        XCTAssertEqual(try writer.finish()[0].schemas, ["outer/2": 1])
    }

    func testExistingFinishedShardsAreNotOverwritten() throws {
        let dir = try makeScratchDirectory(self)
        try writeSamples(10, to: dir)
        XCTAssertThrowsError(try ShardWriter(directory: dir, name: "samples")) {
            XCTAssertTrue("\($0)".contains("already exist"), "\($0)")
        }
    }

    func testExpectedSchemaIsEnforcedOnRead() throws {
        let dir = try makeScratchDirectory(self)
        try writeSamples(5, to: dir)
        let reader = try ShardReader(path: dir, options: ShardReader.Options(expectedSchema: "comparison/1"))
        XCTAssertThrowsError(try reader.nextLine()) { XCTAssertTrue("\($0)".contains("record 1"), "\($0)") }
    }

    func testStockZstdcatReadsAShard() throws {
        guard let zstdcat = findTool("zstdcat") else { throw XCTSkip("zstdcat is not installed") }
        let dir = try makeScratchDirectory(self)
        var options = ShardWriter.Options()
        options.frameRawBytes = 8 << 10
        let files = try writeSamples(500, to: dir, options: options)
        let (status, out, err) = try runProcess(zstdcat, [dir.appendingPathComponent(files[0].file).path])
        XCTAssertEqual(status, 0, err)
        let expected = try (0..<500).map { i -> String in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(sampleRecord(i)), as: UTF8.self) + "\n"
        }.joined()
        XCTAssertEqual(String(decoding: out, as: UTF8.self), expected)
        XCTAssertEqual(out.count, files[0].rawBytes)
    }
}
