// Malformed inputs: a clear error naming file, line and field, or a quarantine entry; never a
// crash and never a silent drop.
import PlumbTestSupport
import XCTest
@testable import PlumbData

final class MalformedInputTests: XCTestCase {
    func testTruncatedJSONArrayIsAnErrorWithLine() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "cut.json", "[\n{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"},\n{\"prompt\": \"d\", \"cho")
        XCTAssertThrowsError(try importFiles([path])) { error in
            XCTAssertEqual("\(error)", "\(path):3: truncated JSON: the value starting on this line is not closed")
        }
    }

    func testTruncatedAndInvalidJSONLinesAreQuarantined() throws {
        let directory = try scratchDirectory(self)
        var bytes = Data("{\"prompt\": \"a\", \"chosen\": \"b\", \"rejected\": \"c\"}\n".utf8)
        bytes.append(Data("{\"prompt\": \"\u{e9}\", \"chosen\": \"b\", \"rejected\": \"".utf8) + Data([0xff, 0xfe]) + Data("\"}\n".utf8))
        bytes.append(Data("{\"prompt\": \"x\", \"chosen\": \"y\", \"rej".utf8))
        let path = directory.appendingPathComponent("rows.jsonl").path
        try bytes.write(to: URL(fileURLWithPath: path))
        let result = try importFiles([path])
        assertCounts(result.sources[0], read: 3, accepted: 1, quarantined: [.invalidUTF8: 1, .invalidJSON: 1])
        XCTAssertEqual(result.quarantine.map(\.source.line), [2, 3])
    }

    func testWrongTypesAreQuarantinedWithTheField() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "types.jsonl", """
        {"prompt": "ok", "chosen": "a", "rejected": "b"}
        {"prompt": "ok", "chosen": 5, "rejected": "b"}
        {"prompt": "ok", "chosen": "a", "rejected": "b", "chosen_safe": "maybe"}
        [1, 2]
        """)
        let result = try importFiles([path], format: .trl)
        assertCounts(result.sources[0], read: 4, accepted: 1, quarantined: [.wrongType: 3])
        XCTAssertEqual(result.quarantine.map(\.field), ["chosen", "chosen_safe", nil])
        XCTAssertEqual(result.quarantine[0].description, "\(path):2 [wrong_type] field 'chosen': field 'chosen' should be a string or a message list, found number")
    }

    func testFileOfTheWrongFormatIsAnErrorNamingFileLineAndField() throws {
        let path = try sharedData("torchtune/stack_exchange_paired_tiny.json")
        XCTAssertThrowsError(try importFiles([path], format: .pkuSafeRLHF)) { error in
            XCTAssertEqual("\(error)", "\(path):1 field 'prompt': not pku-saferlhf data (given with --format): missing field 'prompt'")
        }
    }

    func testCSVMissingColumnIsAnError() throws {
        let directory = try scratchDirectory(self)
        let path = try writeFile(directory, "prefs.csv", "question,good\nq,a\n")
        XCTAssertThrowsError(try importFiles([path]) { $0.columnMapping = ["prompt": "question", "chosen": "good", "rejected": "bad"] }) {
            XCTAssertEqual("\($0)", "\(path):1 field 'bad': the header has no column 'bad' (mapped to 'rejected'); columns are: question, good")
        }
        // Without --columns, 'question' is taken for the prompt (ColumnNames); nothing names the chosen response.
        XCTAssertThrowsError(try importFiles([path])) { XCTAssertTrue("\($0)".contains("no column mapped to 'chosen'"), "\($0)") }
        let short = try writeFile(directory, "short.csv", "prompt,chosen,rejected\np,a,b\np2,a2\n\"never closed,x,y\n")
        XCTAssertThrowsError(try importFiles([short])) { XCTAssertEqual("\($0)", "\(short):4: malformed CSV: a quoted field opened on this line is never closed") }
        let ragged = try writeFile(directory, "ragged.csv", "prompt,chosen,rejected\np,a,b\np2,a2\n")
        let result = try importFiles([ragged])
        assertCounts(result.sources[0], read: 2, accepted: 1, quarantined: [.wrongColumnCount: 1])
    }

    func testCutShortGzipAndZstdAreErrors() throws {
        let sample = try sharedData("hh-rlhf/docta/helpful-base_train_docta_100.jsonl.gz")
        let directory = try scratchDirectory(self)
        let gzip = try Data(contentsOf: URL(fileURLWithPath: sample))
        let cut = directory.appendingPathComponent("cut.jsonl.gz")
        try gzip.prefix(gzip.count / 2).write(to: cut)
        XCTAssertThrowsError(try importFiles([cut.path])) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(cut.path): gzip stream is cut short"), "\(error)")
        }
        guard let zstd = which("zstd"), let gunzip = which("gzip") else { throw XCTSkip("zstd or gzip tool absent") }
        let plain = directory.appendingPathComponent("rows.jsonl")
        try Data(try runTool(gunzip, ["-dc", sample]).1.utf8).write(to: plain)
        XCTAssertEqual(try runTool(zstd, ["-q", "-f", plain.path, "-o", plain.path + ".zst"]).0, 0)
        let whole = try importFiles([plain.path + ".zst"])
        assertCounts(whole.sources[0], read: 100, accepted: 100)
        let compressed = try Data(contentsOf: URL(fileURLWithPath: plain.path + ".zst"))
        try compressed.prefix(compressed.count - 10).write(to: URL(fileURLWithPath: plain.path + ".cut.zst"))
        XCTAssertThrowsError(try importFiles([plain.path + ".cut.zst"])) { error in
            XCTAssertTrue("\(error)".contains("zstd frame is cut short"), "\(error)")
        }
    }

    func testMissingFileIsAnError() {
        XCTAssertThrowsError(try importFiles(["/nonexistent/data.jsonl"])) {
            XCTAssertEqual("\($0)", "/nonexistent/data.jsonl: cannot read the file (missing or unreadable)")
        }
    }
}
