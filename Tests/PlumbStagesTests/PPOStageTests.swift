// `plumb ppo` as a user runs it: a run killed mid-way and rerun ends with the same policy, bit for bit,
// and a metrics log with every iteration once; the figures carry TRL's names; bad inputs are refused
// before any work (prompts without safety tags, a critic of another shape).
import Foundation
import PlumbData
import PlumbModel
@testable import PlumbStages
import PlumbStore
import XCTest

final class PPOStageTests: XCTestCase {
    struct Inputs {
        let tokenizer: URL, policy: URL, helpfulness: URL, safety: URL, prompts: URL, untagged: URL, runs: URL, root: URL
    }

    /// The quick task's RS prompts (tagged), the same prompts without tags, a random policy and two
    /// random reward models on the fixture's tokenizer.
    func makeInputs() throws -> Inputs { try Self.inputs() }

    static func inputs() throws -> Inputs {
        let f = try StageFixtures.fixture()
        let root = f.root.appendingPathComponent("ppo-inputs")
        let runs = root.appendingPathComponent("runs")
        let prompts = runs.appendingPathComponent("r/import-prompts")
        let untagged = runs.appendingPathComponent("r/import-untagged")
        if !FileManager.default.fileExists(atPath: untagged.appendingPathComponent("manifest.json").path) {
            let source = f.task.appendingPathComponent("prompts-rs.jsonl")
            try StageFixtures.plumb(["import", source.path, "--out", prompts.path, "--validation-fraction", "0", "--test-fraction", "0"])
            let lines = try String(contentsOf: source, encoding: .utf8).split(separator: "\n").prefix(20).map { line -> String in
                var object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                object["tags"] = nil
                return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            }
            let file = root.appendingPathComponent("untagged.jsonl")
            try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            try StageFixtures.plumb(["import", file.path, "--out", untagged.path, "--validation-fraction", "0", "--test-fraction", "0"])
        }
        let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 512, maxSeqLen: 64)
        func save(_ heads: LlamaHeads, seed: UInt64, name: String, config: LlamaConfig) throws -> URL {
            let dir = root.appendingPathComponent(name)
            let model = try LlamaModel(config: config, heads: heads, seed: seed)
            if heads.contains(.reward) { RewardTrainingTests.initialiseHead(model) }
            try model.save(to: dir)
            return dir
        }
        return Inputs(tokenizer: f.tokenizer, policy: try save(.lm, seed: 1, name: "policy", config: config),
                      helpfulness: try save(.reward, seed: 2, name: "rm-h", config: config),
                      safety: try save(.reward, seed: 3, name: "rm-s", config: config), prompts: prompts, untagged: untagged,
                      runs: runs, root: root)
    }

    func arguments(_ i: Inputs, stage: String, prompts: URL? = nil, extra: [String] = []) -> [String] {
        ["ppo", "--tokenizer", i.tokenizer.path, "--policy", i.policy.path, "--helpfulness", i.helpfulness.path, "--safety", i.safety.path,
         "--prompts", (prompts ?? i.prompts).path, "--iterations", "5", "--prompts-per-iteration", "8", "--ppo-epochs", "2",
         "--mini-batches", "2", "--max-new-tokens", "10", "--lr", "1e-3", "--value-lr", "1e-3", "--rows", "4", "--max-sequences", "8",
         "--checkpoint-every", "2", "--sample-every", "2", "--out", i.runs.appendingPathComponent("r/\(stage)").path] + extra
    }

    func weights(_ stage: URL) throws -> [Float] {
        let p = try StageModel.load(stage).parameters
        return Array(UnsafeBufferPointer(start: p.values.base, count: p.totalCount))
    }

    func testKilledRunResumesToTheSameWeightsAndReportsEveryIterationOnce() throws {
        let i = try makeInputs()
        _ = try PlumbProcess.binary()
        XCTAssertEqual(try PlumbProcess.run(arguments(i, stage: "ppo-whole")).0, 0)
        XCTAssertEqual(try PlumbProcess.run(arguments(i, stage: "ppo-killed"), environment: ["PLUMB_KILL_AFTER_STEP": "3"]).1, .uncaughtSignal)
        let killed = i.runs.appendingPathComponent("r/ppo-killed")
        XCTAssertEqual(try StageManifest.read(from: killed).status, .running)
        XCTAssertEqual(try PlumbProcess.run(arguments(i, stage: "ppo-killed")).0, 0)
        let whole = i.runs.appendingPathComponent("r/ppo-whole")
        XCTAssertEqual(try weights(whole), try weights(killed), "the resumed run ends with the uninterrupted run's policy")
        XCTAssertNotEqual(try weights(whole), try weights(i.policy), "PPO changed the policy")

        let manifest = try StageManifest.read(from: killed)
        for name in ["objective/kl", "objective/entropy", "objective/rlhf_reward", "objective/scores", "policy/approxkl_avg", "policy/clipfrac_avg",
                     "loss/policy_avg", "loss/value_avg", "val/clipfrac_avg", "val/ratio", "lr/value", "val/explained_variance", "response_length", "gate/fired",
                     "time/rollout", "time/scoring", "time/update"] {
            XCTAssertNotNil(manifest.metrics[name], name)
        }
        XCTAssertEqual(Set(manifest.outputs.map(\.name)), ["samples-iteration-000002", "samples-iteration-000004", "samples-iteration-000005"])
        let samples = try StageRecordReader.read(RejectionSample.self, output: "samples-iteration-000004", from: [killed]).records
        XCTAssertEqual(samples, try StageRecordReader.read(RejectionSample.self, output: "samples-iteration-000004", from: [whole]).records)
        XCTAssertEqual(samples.count, 8)
        let steps = try String(contentsOf: killed.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["event"] as? String == "step" }.compactMap { $0["step"] as? Int }
        XCTAssertEqual(steps, [1, 2, 3, 4, 5])
    }

    func testPromptsWithoutSafetyTagsAreRefusedUnlessAllowed() throws {
        let i = try makeInputs()
        XCTAssertThrowsError(try StageFixtures.plumb(arguments(i, stage: "ppo-untagged", prompts: i.untagged))) { error in
            XCTAssertTrue("\(error)".contains("prompt.tags"), "\(error)")
            XCTAssertTrue("\(error)".contains("--untagged-prompts-are-helpfulness"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: i.runs.appendingPathComponent("r/ppo-untagged/manifest.json").path),
                       "refused before the stage began")
        try StageFixtures.plumb(arguments(i, stage: "ppo-untagged-ok", prompts: i.untagged,
                                          extra: ["--untagged-prompts-are-helpfulness", "--iterations", "1"]))
        XCTAssertEqual(try StageManifest.read(from: i.runs.appendingPathComponent("r/ppo-untagged-ok")).metrics["gate/safety_chosen"] ?? -1,
                       try StageManifest.read(from: i.runs.appendingPathComponent("r/ppo-untagged-ok")).metrics["gate/fired"] ?? -2,
                       "without safety prompts, only the gate chooses the safety model")
    }

    /// A KL past --max-kl stops the stage with a message naming the bound, the iteration and the
    /// checkpoint; the stage is not left complete. (Iteration 1 samples from the reference itself:
    /// its KL is 0.)
    func testKLPastTheBoundStopsTheStage() throws {
        let i = try makeInputs()
        XCTAssertThrowsError(try StageFixtures.plumb(arguments(i, stage: "ppo-kl", extra: ["--max-kl", "1e-6", "--lr", "1e-2", "--checkpoint-every", "3"]))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("past the bound 1e-06"), text)
            XCTAssertTrue(text.contains("stopped at iteration 2 of 5"), text)
            XCTAssertTrue(text.contains("no checkpoint was saved yet"), text)
        }
        XCTAssertNotEqual(try StageManifest.read(from: i.runs.appendingPathComponent("r/ppo-kl")).status, .complete)
    }

    func testACriticOfAnotherShapeIsRefusedBeforeAnyWork() throws {
        let i = try makeInputs()
        let wide = i.root.appendingPathComponent("rm-wide")
        let model = try LlamaModel(config: LlamaConfig(dim: 48, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 512, maxSeqLen: 64),
                                   heads: .reward, seed: 9)
        try model.save(to: wide)
        XCTAssertThrowsError(try StageFixtures.plumb(arguments(i, stage: "ppo-wide", extra: ["--value-init", wide.path]))) { error in
            XCTAssertTrue("\(error)".contains("does not match the policy"), "\(error)")
            XCTAssertTrue("\(error)".contains("dim 48"), "\(error)")
        }
    }
}
