// The PPO curve of the main job's results, read typed from a stage's metrics.jsonl (MetricsLine): one
// point per `eval` line with the figures of the `step` line of the same iteration; a line cut short by
// a kill, a value that is not a number and an eval without the oracle's three rates are left out.
import Foundation
import PlumbEval
import PlumbStages
import XCTest

final class PPOCurveTests: XCTestCase {
    func testPointsPairEachEvalWithItsStep() throws {
        let stage = FileManager.default.temporaryDirectory.appendingPathComponent("plumb-ppo-curve-\(getpid())")
        try FileManager.default.createDirectory(at: stage, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: stage) }
        let lines = [
            #"{"event":"start","resumed_at_step":0}"#,
            #"{"event":"step","step":1,"objective/scores":0.5,"objective/kl":0.01,"response_length":12,"tokens":300}"#,
            #"{"event":"eval","step":1,"oracle/helpfulness":0.4,"oracle/violations":0.1,"oracle/false_refusals":0.05}"#,
            #"{"event":"step","step":2,"objective/scores":0.75,"objective/kl":"nan","response_length":14,"clipped":true}"#,
            #"{"event":"eval","step":2,"oracle/helpfulness":0.45,"oracle/violations":0.08,"oracle/false_refusals":0.04}"#,
            #"{"event":"eval","step":3,"oracle/helpfulness":0.5}"#,
            #"{"event":"step","step":4,"objective/sco"#,
        ]
        try Data(lines.joined(separator: "\n").utf8).write(to: stage.appendingPathComponent("metrics.jsonl"))

        let parsed = try MetricsLine.read(stage.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(parsed.map(\.event), ["start", "step", "eval", "step", "eval", "eval"], "the cut line is left out")
        XCTAssertEqual(parsed[3].figures, ["objective/scores": 0.75, "response_length": 14], "\"nan\" and true are not figures")
        XCTAssertEqual(parsed[1].step, 1)
        XCTAssertNil(parsed[0].step)

        let points = try PPOCurvePoint.read(stage)
        XCTAssertEqual(points.map(\.iteration), [1, 2], "the eval of step 3 lacks two of the oracle's rates")
        XCTAssertEqual(points[0].scores, 0.5)
        XCTAssertEqual(points[0].kl, 0.01)
        XCTAssertEqual(points[0].responseLength, 12)
        XCTAssertEqual([points[0].helpfulness, points[0].violations, points[0].falseRefusals], [0.4, 0.1, 0.05])
        XCTAssertNil(points[1].kl)
        XCTAssertEqual(points[1].scores, 0.75)
    }
}
