// `ImportOptions.directory`: a relative input name is read from that directory, not the working
// directory, and the records, the quarantine and the counts name the file as given.
import Foundation
import PlumbTestSupport
import XCTest
@testable import PlumbData

final class ImportDirectoryTests: XCTestCase {
    func testRelativeNamesAreReadFromTheDirectoryAndKeptAsGiven() throws {
        let run = try scratchDirectory(self)
        try FileManager.default.createDirectory(at: run.appendingPathComponent("task"), withIntermediateDirectories: true)
        try writeFile(run.appendingPathComponent("task"), "pairs.jsonl", """
        {"prompt": "Is fire hot?", "chosen": "Yes.", "rejected": "No."}
        not json
        {"prompt": "Is ice cold?", "chosen": "Yes, it is.", "rejected": "It is warm."}

        """)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "task/pairs.jsonl"), "the name must not resolve from the working directory")
        let result = try importFiles(["task/pairs.jsonl"]) { $0.directory = run.path; $0.splits = SplitFractions(validation: 0, test: 0) }
        XCTAssertEqual(result.sources.map(\.file), ["task/pairs.jsonl"])
        assertCounts(result.sources[0], read: 3, accepted: 2, quarantined: [.invalidJSON: 1])
        XCTAssertEqual(result.sources[0].rowsRead, 3)
        XCTAssertEqual(result.quarantine.map(\.source), [SourceRef(file: "task/pairs.jsonl", line: 2)])
        XCTAssertThrowsError(try importFiles(["task/pairs.jsonl"])) { XCTAssertTrue("\($0)".contains("task/pairs.jsonl"), "\($0)") }
    }
}
