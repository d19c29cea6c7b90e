// `dpo` with a `lora` setting: the policy is the frozen init-from model plus an adapter and the
// reference that same base with the adapter off. A fresh adapter (B = 0) is the reference exactly,
// so the first evaluation is DPO's loss at equality, log 2, to the rounding of the cached reference's
// batch-invariant pass against the training pass; training lowers the loss, the stage keeps the
// adapter only, and a second stage reuses the first one's cached reference.
import Foundation
import PlumbModel
@testable import PlumbStages
import PlumbStore
import XCTest

final class LoRADPOStageTests: XCTestCase {
    func inputs() throws -> (tokenizer: URL, policy: URL, data: URL, runs: URL) {
        let f = try StageFixtures.fixture()
        let root = f.root.appendingPathComponent("lora-dpo-inputs")
        let runs = root.appendingPathComponent("runs"), data = runs.appendingPathComponent("r/import-comparisons")
        if !FileManager.default.fileExists(atPath: data.appendingPathComponent("manifest.json").path) {
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let lines = try String(contentsOf: f.task.appendingPathComponent("comparisons.jsonl"), encoding: .utf8).split(separator: "\n").prefix(48)
            let file = root.appendingPathComponent("comparisons.jsonl")
            try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            try StageFixtures.plumb(["import", file.path, "--out", data.path, "--validation-fraction", "0.25", "--test-fraction", "0"])
        }
        let policy = root.appendingPathComponent("policy")
        let config = LlamaConfig(dim: 32, hiddenDim: 64, nLayers: 2, nHeads: 4, nKVHeads: 2, vocabSize: 512, maxSeqLen: 96)
        try LlamaModel(config: config, heads: .lm, seed: 8).save(to: policy)
        return (f.tokenizer, policy, data, runs)
    }

    func testLoRADPOTrainsAnAdapterAgainstTheBase() throws {
        let i = try inputs()
        var p = DPOStage.Parameters()
        p.seqLen = 95; p.rows = 4; p.epochs = 4
        p.loss = DPOLoss(kind: .sigmoid, beta: 0.5)
        p.loop = LoopSettings(optimization: OptimizationSettings(learningRate: 1e-6), checkpointEvery: 0, evaluateEvery: 0)
        p.lora = LoRASettings(rank: 4, alpha: 8, learningRate: 3e-2)
        let stageInputs = StageInputs(["tokenizer": [i.tokenizer], "init-from": [i.policy], "data": [i.data]])
        let summary = try StageRun.run(DPOStage.self, p, inputs: stageInputs, location: StageLocation(runsRoot: i.runs, run: "r", stage: "dpo-lora"))
        let first = try XCTUnwrap(summary.training.initialEvaluation["eval_loss"])
        XCTAssertEqual(first, log(2), accuracy: 1e-4, "a fresh adapter is the reference: DPO's loss is log 2")
        // Steps of 2 pairs are noisy: the last epoch's mean loss and implicit-reward accuracy on the
        // training pairs against the first epoch's (measured: 0.85 -> 0.59, 0.44 -> 0.73).
        let stage = i.runs.appendingPathComponent("r/dpo-lora")
        let steps = try String(contentsOf: stage.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.filter { $0["event"] as? String == "step" }
        let epoch = steps.count / 4
        func mean(_ key: String, _ part: ArraySlice<[String: Any]>) -> Double { part.map { $0[key] as! Double }.reduce(0, +) / Double(part.count) }
        XCTAssertLessThan(mean("loss", steps.suffix(epoch)), 0.65, "the last epoch's mean DPO loss is not below log 2")
        XCTAssertGreaterThan(mean("rewards/accuracies", steps.suffix(epoch)), mean("rewards/accuracies", steps.prefix(epoch)))
        let manifest = try StageManifest.read(from: stage)
        XCTAssertEqual(manifest.artifacts.map(\.name), [PEFTAdapterFormat.weightsFile])
        XCTAssertGreaterThan(manifest.metrics["reference_computed"] ?? 0, 0)
        // The base on disk is the init-from model, unchanged; the merged policy differs from it.
        let (base, adapter) = try StageModel.loadAdapter(stage)
        let original = try StageModel.load(i.policy)
        XCTAssertEqual(try BaseChecksum.of(base), try BaseChecksum.of(original))
        XCTAssertGreaterThan(adapter.allModules.map { $0.b.array.map(abs).max()! }.max()!, 0)
        // A second LoRA stage reuses the first one's cached reference log-probabilities.
        let again = StageInputs(["tokenizer": [i.tokenizer], "init-from": [i.policy], "data": [i.data], "reference-cache": [stage]])
        p.epochs = 1
        _ = try StageRun.run(DPOStage.self, p, inputs: again, location: StageLocation(runsRoot: i.runs, run: "r", stage: "dpo-lora-2"))
        XCTAssertEqual(try StageManifest.read(from: i.runs.appendingPathComponent("r/dpo-lora-2")).metrics["reference_cached"], 1)
    }
}
