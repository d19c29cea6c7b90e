// `plumb stage rl` as a user runs it: a critic-free run killed mid-way and rerun ends with the same
// policy, bit for bit, as an uninterrupted run, with every iteration once in its metrics and TRL's
// names; a group size of 1 for RLOO is refused before any work.
import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import XCTest

final class RLStageTests: XCTestCase {
    func arguments(_ i: PPOStageTests.Inputs, stage: String, estimator: String = "rloo", extra: [String] = []) -> [String] {
        ["stage", "rl", "--tokenizer", i.tokenizer.path, "--policy", i.policy.path, "--helpfulness", i.helpfulness.path, "--safety", i.safety.path,
         "--prompts", i.prompts.path, "--estimator", estimator, "--group-size", "3", "--iterations", "5", "--prompts-per-iteration", "4",
         "--ppo-epochs", "2", "--mini-batches", "2", "--max-new-tokens", "10", "--lr", "1e-3", "--rows", "4", "--max-sequences", "12",
         "--checkpoint-every", "2", "--sample-every", "2", "--out", i.runs.appendingPathComponent("r/\(stage)").path] + extra
    }

    func weights(_ stage: URL) throws -> [Float] {
        let p = try StageModel.load(stage).parameters
        return Array(UnsafeBufferPointer(start: p.values.base, count: p.totalCount))
    }

    func stepLines(_ stage: URL) throws -> [[String: Any]] {
        try String(contentsOf: stage.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["event"] as? String == "step" }
    }

    func testKilledCriticFreeRunResumesToTheSameWeights() throws {
        let i = try PPOStageTests.inputs()
        _ = try PlumbProcess.binary()
        XCTAssertEqual(try PlumbProcess.run(arguments(i, stage: "rl-whole", extra: ["--kl-in", "loss", "--kl-estimator", "k3"])).0, 0)
        XCTAssertEqual(try PlumbProcess.run(arguments(i, stage: "rl-killed", extra: ["--kl-in", "loss", "--kl-estimator", "k3"]),
                                            environment: ["PLUMB_KILL_AFTER_STEP": "3"]).1, .uncaughtSignal)
        let killed = i.runs.appendingPathComponent("r/rl-killed")
        XCTAssertEqual(try StageManifest.read(from: killed).status, .running)
        XCTAssertEqual(try PlumbProcess.run(arguments(i, stage: "rl-killed", extra: ["--kl-in", "loss", "--kl-estimator", "k3"])).0, 0)
        let whole = i.runs.appendingPathComponent("r/rl-whole")
        XCTAssertEqual(try weights(whole), try weights(killed), "the resumed run ends with the uninterrupted run's policy")
        XCTAssertNotEqual(try weights(whole), try weights(i.policy), "RLOO changed the policy")

        let manifest = try StageManifest.read(from: killed)
        XCTAssertEqual(manifest.kind, "rl")
        for name in ["objective/kl", "objective/entropy", "objective/rlhf_reward", "objective/scores", "objective/non_score_reward",
                     "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg", "loss/kl_avg", "val/ratio", "val/ratio_var", "response_length"] {
            XCTAssertNotNil(manifest.metrics[name], name)
        }
        for name in ["loss/value_avg", "val/explained_variance", "lr/value", "lr"] { XCTAssertNil(manifest.metrics[name], "\(name): no critic, one lr") }
        let lines = try stepLines(killed)
        XCTAssertEqual(lines.compactMap { $0["step"] as? Int }, [1, 2, 3, 4, 5])
        // 4 prompts x 3 responses per iteration, the first samplesKept (16) of them kept: all 12.
        let samples = try StageRecordReader.read(RejectionSample.self, output: "samples-iteration-000004", from: [killed]).records
        XCTAssertEqual(samples.count, 12)
        XCTAssertEqual(Set(samples.map(\.promptID)).count, 4, "each prompt's group of 3")
        XCTAssertEqual(samples.map(\.sample), [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], "each response's place in its group")
    }

    func testGroupSizeOneForRLOOIsRefusedBeforeAnyWork() throws {
        let i = try PPOStageTests.inputs()
        var args = arguments(i, stage: "rl-one")
        args[args.firstIndex(of: "--group-size")! + 1] = "1"
        XCTAssertThrowsError(try StageFixtures.plumb(args)) { error in
            XCTAssertTrue("\(error)".contains("group-size"), "\(error)")
            XCTAssertTrue("\(error)".contains("at least 2 responses per prompt"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: i.runs.appendingPathComponent("r/rl-one").path), "refused before the stage began")
    }

    /// Keep-best with the task's annotators as the validator (validated every 2 iterations): a killed
    /// and resumed run keeps the same iteration's policy as an uninterrupted one, and says which.
    func testKeepBestChoosesTheSameIterationAfterAKill() throws {
        let i = try PPOStageTests.inputs()
        let f = try StageFixtures.fixture()
        let validation = ["--validation-prompts", f.task.appendingPathComponent("eval-prompts.jsonl").path, "--validation-task", f.task.path,
                          "--keep-best", "--validate-every", "2"]
        XCTAssertEqual(try PlumbProcess.run(arguments(i, stage: "rl-best-whole", extra: validation)).0, 0)
        XCTAssertEqual(try PlumbProcess.run(arguments(i, stage: "rl-best-killed", extra: validation),
                                            environment: ["PLUMB_KILL_AFTER_STEP": "3"]).1, .uncaughtSignal)
        XCTAssertEqual(try PlumbProcess.run(arguments(i, stage: "rl-best-killed", extra: validation)).0, 0)
        let whole = i.runs.appendingPathComponent("r/rl-best-whole"), killed = i.runs.appendingPathComponent("r/rl-best-killed")
        XCTAssertEqual(try weights(whole), try weights(killed))
        let a = try StageManifest.read(from: whole).metrics, b = try StageManifest.read(from: killed).metrics
        XCTAssertNotNil(a["validation/best_iteration"])
        XCTAssertEqual(a["validation/best_iteration"], b["validation/best_iteration"])
        XCTAssertEqual(a["validation/best"], b["validation/best"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: whole.appendingPathComponent("best-policy").path), "the kept copy is the stage's model")
        let evals = try String(contentsOf: killed.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["event"] as? String == "eval" }.compactMap { $0["step"] as? Int }
        XCTAssertEqual(evals, [0, 2, 4, 5], "validated before the first iteration, every 2, and after the last")
    }
}
