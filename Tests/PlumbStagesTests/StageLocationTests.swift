// How a stage names a file it reads in what it writes (`StageLocation.recordedPath`): relative to the
// run's directory inside the runs root (another run's files through `..`), the full path outside it.
import Foundation
import PlumbStages
import XCTest

final class StageLocationTests: XCTestCase {
    func testRecordedPaths() {
        let location = StageLocation(runsRoot: URL(fileURLWithPath: "/r/runs"), run: "m2", stage: "import")
        XCTAssertEqual(location.recordedPath(URL(fileURLWithPath: "/r/runs/m2/task/sft.jsonl")), "task/sft.jsonl")
        XCTAssertEqual(location.recordedPath(URL(fileURLWithPath: "/r/runs/m1/month-comparisons/c.jsonl")), "../m1/month-comparisons/c.jsonl")
        XCTAssertEqual(location.recordedPath(URL(fileURLWithPath: "/r/runs/./m2/task/../task/x.json")), "task/x.json")
        XCTAssertEqual(location.recordedPath(URL(fileURLWithPath: "/data/pairs.jsonl")), "/data/pairs.jsonl")
        XCTAssertEqual(location.recordedPath(URL(fileURLWithPath: "/r/runs-other/m1/x")), "/r/runs-other/m1/x", "a sibling of the root is outside it")
    }
}
