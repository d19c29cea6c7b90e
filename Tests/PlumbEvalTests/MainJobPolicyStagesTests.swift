// The main job's table reads its policies from the run: every `eval oracle` stage with a `title`, in
// the pipeline file's order (pipeline-run.json), other kinds and untitled eval stages left out; a run
// with no titled stage keeps the table of runs made before titles.
import Foundation
@testable import PlumbEval
import PlumbStore
import XCTest

final class MainJobPolicyStagesTests: XCTestCase {
    func testTitledEvalStagesInTheFilesOrder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-titles-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("m1")
        func stage(_ name: String, kind: String, config: [String: String]) throws {
            let writer = try StageWriter.begin(runsRoot: root, run: "m1", stage: name, kind: kind, config: config)
            try writer.complete()
        }
        try stage("eval-b", kind: "eval oracle", config: ["title": "B policy"])
        try stage("eval-a", kind: "eval oracle", config: ["title": "A policy"])
        try stage("eval-untitled", kind: "eval oracle", config: [:])
        try stage("sft", kind: "sft", config: ["title": "not an evaluation"])
        XCTAssertEqual(MainJobResults.policyStages(of: run).map(\.1), MainJobResults.untitledPolicyStages.map(\.1), "no record: the old table")
        try Data(#"{"format": 1, "pipeline": "p", "stages": ["sft", "eval-untitled", "eval-b", "eval-a"]}"#.utf8)
            .write(to: run.appendingPathComponent("pipeline-run.json"))
        let rows = MainJobResults.policyStages(of: run)
        XCTAssertEqual(rows.map(\.0), ["B policy", "A policy"], "the file's order, titled eval stages only")
        XCTAssertEqual(rows.map(\.1), ["eval-b", "eval-a"])
    }
}
