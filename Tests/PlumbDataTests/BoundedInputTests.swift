// Inputs larger than their limits: over-long rows are quarantined with file, line and length and the
// rows after them still imported; a file that decompresses past its bound is an error naming it;
// detection reads a bounded prefix. The limits are set low so the files stay small.
import PlumbTestSupport
import XCTest
@testable import PlumbData

final class BoundedInputTests: XCTestCase {
    private let row = #"{"prompt": "p%d", "chosen": "good answer %d", "rejected": "bad reply %d"}"#
    private func rows(_ range: ClosedRange<Int>) -> [String] { range.map { String(format: row, $0, $0, $0) } }

    private func limited(_ lineBytes: Int, decompressed: Int = 8 << 30) -> (inout ImportOptions) -> Void {
        { $0.input.maxLineBytes = lineBytes; $0.input.maxDecompressedBytes = decompressed; $0.deduplication.nearDuplicates = false }
    }

    func testOverLongJSONLineIsQuarantinedWithItsLengthAndTheNextLinesImported() throws {
        let directory = try scratchDirectory(self)
        let long = #"{"prompt": "x", "chosen": ""# + String(repeating: "a", count: 5000) + #"", "rejected": "b"}"#
        let lines = rows(1...2) + [long] + rows(3...4)
        let path = try writeFile(directory, "rows.jsonl", lines.joined(separator: "\n") + "\n")
        let result = try importFiles([path], format: .trl, configure: limited(200))
        assertCounts(result.sources[0], read: 5, accepted: 4, quarantined: [.tooLong: 1])
        let entry = try XCTUnwrap(result.quarantine.first)
        XCTAssertEqual(entry.source, SourceRef(file: path, line: 3))
        XCTAssertEqual(entry.reason, .tooLong)
        XCTAssertTrue(entry.detail.hasPrefix("the row is \(long.utf8.count) bytes, longer than the limit of 200 bytes"), entry.detail)
        XCTAssertEqual(entry.excerpt, String(long.prefix(500)))
        XCTAssertEqual(result.comparisons.map { $0.prompt.messages.last?.content }, ["p1", "p2", "p3", "p4"])
        XCTAssertEqual(result.comparisons.map(\.source.line), [1, 2, 4, 5])
    }

    func testOverLongLineWithoutNewlineAtTheEndIsQuarantined() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "tail.jsonl", rows(1...1).joined() + "\n" + String(repeating: "0", count: 3 << 20))
        let result = try importFiles([path], format: .trl, configure: limited(1000))
        assertCounts(result.sources[0], read: 2, accepted: 1, quarantined: [.tooLong: 1])
        XCTAssertTrue(result.quarantine[0].detail.hasPrefix("the row is \(3 << 20) bytes"), result.quarantine[0].detail)
    }

    func testOverLongArrayElementAndCSVRecordAreQuarantined() throws {
        let directory = try scratchDirectory(self)
        let long = #"{"prompt": "x", "chosen": "[{\"]}"# + String(repeating: "z", count: 3000) + #"", "rejected": "b"}"#
        let array = try writeFile(directory, "rows.json", "[\n" + (rows(1...1) + [long] + rows(2...2)).joined(separator: ",\n") + "\n]\n")
        let fromArray = try importFiles([array], format: .trl, configure: limited(300))
        assertCounts(fromArray.sources[0], read: 3, accepted: 2, quarantined: [.tooLong: 1])
        XCTAssertEqual(fromArray.quarantine.map(\.source.line), [3])
        XCTAssertEqual(fromArray.comparisons.map(\.source.line), [2, 4])

        let quoted = "\"" + String(repeating: "q,\n", count: 400) + "\""
        let csv = try writeFile(directory, "rows.csv", "prompt,chosen,rejected\np1,a,b\n\(quoted),a,b\np2,c,d\n")
        let fromCSV = try importFiles([csv], configure: limited(300))
        assertCounts(fromCSV.sources[0], read: 3, accepted: 2, quarantined: [.tooLong: 1])
        XCTAssertEqual(fromCSV.quarantine.map(\.source.line), [3])
        XCTAssertEqual(fromCSV.comparisons.map(\.source.line), [2, 404])
    }

    func testDecompressedBytesBoundIsAnErrorNamingTheFile() throws {
        guard let gzip = which("gzip") else { throw XCTSkip("gzip tool absent") }
        let directory = try scratchDirectory(self)
        let plain = try writeFile(directory, "rows.jsonl", rows(1...400).joined(separator: "\n") + "\n")
        XCTAssertEqual(try runTool(gzip, ["-k", plain]).0, 0)
        let size = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: plain)[.size] as? Int)
        XCTAssertGreaterThan(size, 20_000)
        for path in [plain + ".gz", plain] {
            XCTAssertThrowsError(try importFiles([path], format: .trl, configure: limited(1 << 20, decompressed: 20_000))) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(path): decompresses to more than 20000 bytes (the per-file limit, --max-decompressed-bytes)"), "\(error)")
            }
            let whole = try importFiles([path], format: .trl, configure: limited(1 << 20, decompressed: size))
            assertCounts(whole.sources[0], read: 400, accepted: 400)
        }
    }

    func testDetectionReadsABoundedPrefix() throws {
        let directory = try scratchDirectory(self)
        let garbage = Array(repeating: "not json", count: 2000).joined(separator: "\n")
        let path = try writeFile(directory, "late.jsonl", garbage + "\n" + rows(1...1).joined() + "\n")
        XCTAssertThrowsError(try importFiles([path]) { $0.input.detectionBytes = 4096 }) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(path): cannot detect the format: no row in the first 4096 bytes parses as JSON (line 1: not valid JSON"), "\(error)")
        }
        let found = try importFiles([path])
        assertCounts(found.sources[0], read: 2001, accepted: 1, quarantined: [.invalidJSON: 2000])
    }
}

/// Compressed bombs: a small .zst of zeros (no newline) and one of newlines, with the limits set low.
final class CompressionBombTests: XCTestCase {
    private func zstdFile(_ directory: URL, _ name: String, byte: UInt8, count: Int) throws -> String {
        guard let zstd = which("zstd") else { throw XCTSkip("zstd tool absent") }
        let plain = directory.appendingPathComponent(name)
        try Data(repeating: byte, count: count).write(to: plain)
        XCTAssertEqual(try runTool(zstd, ["-q", "-f", "--rm", plain.path, "-o", plain.path + ".zst"]).0, 0)
        return plain.path + ".zst"
    }

    func testZeroBombIsOneOverLongRowOrADetectionErrorWithinThePrefix() throws {
        let directory = try scratchDirectory(self)
        let path = try zstdFile(directory, "zeros.jsonl", byte: 0, count: 3 << 20)
        let configure: (inout ImportOptions) -> Void = { $0.input.maxLineBytes = 4096; $0.input.detectionBytes = 1 << 20 }
        XCTAssertThrowsError(try importFiles([path], configure: configure)) { error in
            XCTAssertEqual("\(error)", "\(path): cannot detect the format: no row in the first 1048576 bytes parses as JSON (no complete row in them)")
        }
        let forced = try importFiles([path], format: .trl, configure: configure)
        assertCounts(forced.sources[0], read: 1, accepted: 0, quarantined: [.tooLong: 1])
        XCTAssertTrue(forced.quarantine[0].detail.hasPrefix("the row is \(3 << 20) bytes, longer than the limit of 4096 bytes"),
                      forced.quarantine[0].detail)
    }

    func testNewlineBombHasNoRows() throws {
        let directory = try scratchDirectory(self)
        let path = try zstdFile(directory, "newlines.jsonl", byte: 0x0a, count: 3 << 20)
        XCTAssertThrowsError(try importFiles([path]) { $0.input.detectionBytes = 1 << 20 }) { error in
            XCTAssertEqual("\(error)", "\(path): cannot detect the format: no row in the first 1048576 bytes parses as JSON (no complete row in them)")
        }
        let forced = try importFiles([path], format: .trl)
        XCTAssertEqual(forced.sources[0].rowsRead, 0)
        XCTAssertTrue(forced.sources[0].isBalanced)
    }
}
